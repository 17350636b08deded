"""`python -m agent` is the `storelink` command."""

from agent.cli import main

raise SystemExit(main())

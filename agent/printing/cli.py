"""`storelink print render`: the exact printer bytes of a job, or its PNG preview."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent import EXIT_FAIL, EXIT_OK
from drivers import InvalidInput


def _load_json(path: str) -> object:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as e:
        raise InvalidInput(path, e.strerror or str(e)) from None
    except json.JSONDecodeError as e:
        raise InvalidInput(path, f"not valid JSON: {e}") from None


def _print_render(args: argparse.Namespace) -> int:
    from agent.printing.jobs import parse_job, render_job
    from drivers.profiles import get_profile

    profile = get_profile(args.profile)
    job = parse_job(_load_json(args.job))
    encoded = render_job(job, profile)
    out = Path(args.output)
    if args.format == "png":
        from agent.printing.preview import preview_png

        data = preview_png(encoded.data, profile)
    else:
        if args.format != profile.language:
            raise InvalidInput("--format", f"profile {profile.name} speaks {profile.language}")
        data = encoded.data
    try:
        out.write_bytes(data)
    except OSError as e:
        print(f"error: --output: {e.strerror or e}", file=sys.stderr)
        return EXIT_FAIL
    print(f"{out}: {out.stat().st_size} bytes ({args.format}, {profile.name})")
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `storelink print render`."""
    prn = sub.add_parser("print", help="render print jobs")
    prn_sub = prn.add_subparsers(dest="action", required=True)
    ren = prn_sub.add_parser("render", help="write the exact printer bytes or a PNG preview")
    ren.add_argument("job", help="job JSON file (docs/print-jobs.md), or - for stdin")
    ren.add_argument("--profile", required=True, help="printer profile name")
    ren.add_argument("--format", choices=["escpos", "tspl", "zpl", "png"], default="escpos")
    ren.add_argument("-o", "--output", required=True)
    ren.set_defaults(func=_print_render)


.PHONY: test demo setup bench clean lock

setup:
	bash scripts/bootstrap

test: setup
	bash scripts/check

demo: setup
	.venv/bin/python -m agent demo

lock:
	bash scripts/lock

bench: setup
	.venv/bin/python bench/run_all.py

clean:
	rm -rf .venv .venv-lock build *.egg-info .mypy_cache .ruff_cache .pytest_cache demo-out

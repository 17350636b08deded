.PHONY: test demo setup bench clean

setup:
	bash scripts/bootstrap

test: setup
	bash scripts/check

demo: setup
	.venv/bin/python -m agent demo

bench: setup
	.venv/bin/python bench/run_all.py

clean:
	rm -rf .venv build *.egg-info .mypy_cache .ruff_cache .pytest_cache demo-out

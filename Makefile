.PHONY: test demo setup bench clean lock test-arm64 release chaos vendor-echarts

setup:
	bash scripts/bootstrap

test: setup
	bash scripts/check

demo: setup
	.venv/bin/python -m agent demo

lock:
	bash scripts/lock

# The chaos suite three times with three seeds (each run ~1-2 min; one run is in `make test`).
# CHAOS_SEED=N repeats the run of that seed; docs/chaos.md.
chaos: setup
	bash scripts/chaos

# An arm64 Debian root under qemu-user-static: install with scripts/install.sh and smoke-test
# the box (10-30 min; root; not part of `make test`). Result in build/arm64-smoke.json.
test-arm64: setup
	bash scripts/test-arm64

# A release bundle for this machine (ARCH=aarch64 for a Raspberry Pi): build/release/*.tar.gz
release: setup
	bash scripts/build-release --tar $(if $(ARCH),--arch $(ARCH),)

bench: setup
	.venv/bin/python bench/run_all.py

# Re-vendor Apache ECharts (the reports page's charts) from the npm registry, integrity-checked.
vendor-echarts:
	bash scripts/vendor-echarts

clean:
	rm -rf .venv .venv-lock build *.egg-info .mypy_cache .ruff_cache .pytest_cache demo-out

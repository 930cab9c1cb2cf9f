# Shortcuts for dev.py, which needs only Python 3.11+.
.PHONY: demo test lint
demo:
	python3 dev.py demo
test:
	python3 dev.py test
lint:
	.venv/bin/ruff check src tests && .venv/bin/mypy

# rollcall — `make dev` runs everything locally, `make test` runs the tests.
# Without DATABASE_URL / REDIS_URL both start embedded PostgreSQL and Redis under .rollcall/.

export UV_PYTHON_DOWNLOADS := never
UV ?= uv
RUN := $(UV) run --frozen

.PHONY: help install dev test lint format typecheck migrations-check ci clean vendor-swagger-ui

help:
	@echo "make dev               run the API, a worker and (if needed) embedded PostgreSQL + Redis"
	@echo "make test              run the tests with coverage (fails under 85%)"
	@echo "make ci                lint + types + migrations check + tests, as CI runs them"
	@echo "make format            apply ruff formatting and safe fixes"

install:
	$(UV) sync --frozen

dev: install
	$(RUN) rollcall dev

test: install
	$(RUN) pytest --cov --cov-report=term --durations=15

lint: install
	$(RUN) ruff format --check .
	$(RUN) ruff check .

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

typecheck: install
	$(RUN) mypy

# The models and the migrations must agree: a model change without its migration fails here.
migrations-check: install
	$(RUN) pytest tests/test_migrations.py -q -p no:cacheprovider

ci: lint typecheck migrations-check test

# Swagger UI's assets, served by the API at /schema: from npm's swagger-ui-dist, version and checksums recorded.
SWAGGER_UI_VERSION ?= 5.32.0
vendor-swagger-ui: install
	$(RUN) python -m app.web.vendor_swagger_ui $(SWAGGER_UI_VERSION)

clean:
	rm -rf .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache htmlcov tests/browser/artifacts

# The project's verbs. `make help` lists them.
SHELL := /bin/bash
# uv from PATH, else the one pip installs beside python3 (make install does that).
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PY := $(UV) run --frozen
PROTO_SRC := protos
PROTO_OUT := protos/gen/python
PROTO_FILES := $(shell find $(PROTO_SRC)/liaison -name '*.proto' | sort)
# The services, from the one list of them (services/kit/kit/services.toml).
SERVICES := $(shell sed -n 's/^\[services\.\([a-z0-9]*\)\][[:space:]]*$$/\1/p' services/kit/kit/services.toml)

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the make targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

.PHONY: install
install: ## Install every dependency from uv.lock into .venv (installs uv when missing)
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet 'uv==0.13.8'
	$(UV) sync --frozen

.PHONY: protos
protos: ## Generate Python code from protos/ into protos/gen/python
	find $(PROTO_OUT)/liaison -name '*_pb2*.py*' -delete
	$(PY) python -m grpc_tools.protoc -I $(PROTO_SRC) \
		--python_out=$(PROTO_OUT) --grpc_python_out=$(PROTO_OUT) --mypy_out=$(PROTO_OUT) \
		$(PROTO_FILES)
	for d in $$(find $(PROTO_OUT)/liaison -type d); do touch $$d/__init__.py; done

.PHONY: protos-check
protos-check: ## Fail when the generated code differs from what the protos produce
	$(MAKE) protos
	git diff --exit-code -- $(PROTO_OUT)
	test -z "$$(git status --porcelain -- $(PROTO_OUT))"

.PHONY: lint
lint: ## ruff and mypy on the project's own code
	$(PY) ruff check services gateway tests bench examples
	$(PY) ruff format --check services gateway tests bench examples
	$(PY) mypy services/kit/kit $(foreach s,$(SERVICES),services/$(s)/$(s))
	$(PY) mypy examples/department_client
	$(PY) mypy gateway/gateway

.PHONY: up
up: install ## Bring the whole platform up locally with demo data (Ctrl-C stops it)
	bash scripts/services.sh rabbitmq
	$(PY) python -m kit.devrun

.PHONY: images
images: ## Build every service's image and the gateway's (docker, else podman; base images from Debian's packages where no registry is reachable)
	bash scripts/containers/images.sh
	@bash -c '. scripts/containers/engine.sh && $$ENGINE images --filter reference="localhost/liaison-*" --format "{{.Repository}}:{{.Tag}} {{.Size}}"'

.PHONY: images-audit
images-audit: ## The images' packages: pip-audit and a CycloneDX SBOM of the lock, Debian's package lists (var/images/)
	UV="$(UV)" bash scripts/containers/audit.sh

.PHONY: up-containers
up-containers: install images ## The whole platform in containers, as the chart runs it (gateway on 127.0.0.1:8080; Ctrl-C stops it)
	$(PY) python scripts/containers/chartrun.py up

.PHONY: test-deps
test-deps: ## Install what the tests need when missing (promtool, chromium, servers, uv); start the servers
	bash scripts/install-test-deps.sh

.PHONY: test
test: test-deps ## Run every test: unit, service (PostgreSQL, RabbitMQ, Redis), end to end, chart, containers
	$(MAKE) --no-print-directory install
	$(PY) pytest services gateway tests

.PHONY: chart
chart: ## Lint, render and validate the Helm charts; check the alert rules
	$(PY) pytest tests/chart -q

.PHONY: explore
explore: test-deps ## schemathesis against the running platform with a random seed (printed), beyond the fixed one of `make test`
	$(PY) pytest -m explore tests/e2e/test_schemathesis_e2e.py

.PHONY: bench
bench: install ## Benchmarks that print figures (the edge against a baseline, freshness, the directory's memory, event latency, roster import memory, event writes and the relay, bookings, referral letters opened and the deadline sweep, votes on one ballot, the duty-record read, notifications fanned out, emailed and their latency)
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)) || \
		echo "wrk is not installed: the read benchmark uses a Python client"
	bash scripts/services.sh postgres rabbitmq
	@uptime
	$(PY) python bench/run.py
	$(PY) python bench/directory_memory.py
	$(PY) python bench/roster_memory.py
	$(PY) python bench/writes.py
	$(PY) python bench/bookings.py
	$(PY) python bench/letters.py
	$(PY) python bench/ballots.py
	$(PY) python bench/duty_record.py
	$(PY) python bench/notifications_bench.py
	@uptime

.PHONY: clean
clean: ## Remove local state (SQLite files, logs) under var/
	rm -rf var

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Serving needs the runtime dependencies only; testing adds the test and docs extras.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed
DOCS_STAMP := $(VENV)/.docs-installed
DOCS_PORT ?= 8001

.PHONY: serve cluster demo screenshot test test-cluster test-fast lint docs docs-build install clean bench bench-growth bench-all load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[docs]'
	touch $@

install: $(TEST_STAMP) $(DOCS_STAMP)

serve: $(STAMP)
	$(BIN)/tracker serve

# Three NATS servers, three nodes and HAProxy on loopback (Debian packages nats-server and
# haproxy, installed when missing as scripts/test-deps does: as root with apt-get); prints the
# front door and the admin token; Ctrl-C stops them all.
cluster: $(STAMP)
	@PATH="$$PATH:/usr/sbin"; command -v nats-server >/dev/null && command -v haproxy >/dev/null \
	  || { [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null \
	       && apt-get update -qq && apt-get install -y -qq nats-server haproxy; } || true
	$(BIN)/python -m tracker.cluster.loopback

# A month of made-up traffic in demo-data/ (made once), served on 127.0.0.1:8000.
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# docs/dashboard.png and docs/dashboard-mobile.png from that data set (Playwright is a test tool).
screenshot: $(TEST_STAMP)
	$(BIN)/python scripts/screenshot.py

# The suite runs on TEST_WORKERS processes (pytest-xdist), more than the cores: many tests
# wait on sleeps, timeouts and subprocesses. --dist loadfile keeps each module on one worker,
# so a module's shared service is started once and a module's timing-sensitive tests never
# overlap each other.
TEST_WORKERS ?= 4
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# The loopback cluster tests (each module starts three NATS servers, three nodes and HAProxy)
# run after the others, on their own: their fault tests time takeovers, and two of them at
# once on two cores would measure each other. make test-cluster runs them alone.
test: $(TEST_STAMP) lint docs-build
	scripts/test-deps
	$(BIN)/pytest $(PYTEST_PARALLEL) -m 'not cluster'
	$(BIN)/pytest -m cluster tests/cluster

test-cluster: $(TEST_STAMP)
	scripts/test-deps
	$(BIN)/pytest -m cluster tests/cluster

# The inner loop: the tests that run the app in-process; not the slow fault and load tests, the
# browser tests, nor those that start the service in a subprocess (marked `service`). None of
# them shares a service or measures time, so workers take them a test at a time.
test-fast: $(TEST_STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal -q -m 'not slow and not service' --ignore=tests/browser

lint: $(TEST_STAMP)
	$(BIN)/ruff check tracker tests loadtests scripts docs
	$(BIN)/mypy

# The theme's end-of-life notice (pyproject.toml, docs extra) would open every build.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs

# The documentation site on 127.0.0.1:$(DOCS_PORT), rebuilt as pages change.
docs: $(DOCS_STAMP)
	$(MKDOCS) serve --dev-addr 127.0.0.1:$(DOCS_PORT)

# site/, failing on any warning: a broken link or anchor, a page missing from the nav.
docs-build: $(DOCS_STAMP)
	$(MKDOCS) build --strict --quiet

HOST ?= http://127.0.0.1:8000
USERS ?= 200
SPAWN ?= 20
DURATION ?= 60s
TOKEN ?= $(shell cat shards/read-token 2>/dev/null)

bench: $(STAMP)
	$(BIN)/python loadtests/bench.py

bench-growth: $(STAMP)
	$(BIN)/python loadtests/bench.py growth --movements 10000000

# Every row of the speed table that a command can print, in one run (BENCHMARKS.md, "The
# speed table"): the web data set is built once into BENCH_DATA (10 million movements,
# about an hour on 2 cores) and reused; BEFORE=<another checkout> with BEFORE_DATA=<its copy
# of the data set> adds that checkout's breakdowns beside these. Chromium for the dashboard
# rows comes with `make test`'s tools (scripts/test-deps).
BENCH_DATA ?= /tmp/tracker-web-bench
BENCH_REPEATS ?= 30
BEFORE ?=
BEFORE_DATA ?=
bench-all: $(VENV)/.load-installed $(TEST_STAMP)
	@uptime
	$(BIN)/python loadtests/analytics_bench.py --web --data-dir $(BENCH_DATA) \
		--repeats $(BENCH_REPEATS) --ingest-sample 0
	$(BIN)/python loadtests/breakdown_bench.py --data-dir $(BENCH_DATA) \
		$(if $(BEFORE),--before $(BEFORE) --before-data-dir $(or $(BEFORE_DATA),$(BENCH_DATA)))
	$(BIN)/python loadtests/engine_anchor.py --data-dir $(BENCH_DATA)
	$(BIN)/python loadtests/dashboard_bench.py --data-dir $(BENCH_DATA) --repeats 5
	$(BIN)/python loadtests/bench.py growth --movements 10000000
	@uptime

$(VENV)/.load-installed: $(STAMP)
	$(BIN)/pip install --quiet -e '.[load]'
	touch $@

load: $(VENV)/.load-installed
	TRACKER_READ_TOKEN=$(TOKEN) $(BIN)/locust -f loadtests/locustfile.py --headless \
		-H $(HOST) -u $(USERS) -r $(SPAWN) -t $(DURATION) --only-summary

clean:
	rm -rf $(VENV) build site *.egg-info

# liveroom — `make run` for a local stack, `make test` for the suite (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/liveroom)
TEST_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/0)
# `make run` ports (override for a second stack, e.g. `make run WEB_PORT=18000 SIM_PORT=18100`).
WEB_PORT ?= 8000
SIM_PORT ?= 8100
# the ingest edge (nginx-rtmp): RTMP push / play, and HLS
RTMP_PORT ?= 1935
HLS_PORT ?= 8080

.PHONY: run run-env test lint format venv clean screenshots bench bench-events bench-outage

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

# RTMP play URLs name TENCENT_LIVE_RTMP_PLAY_DOMAIN: a play domain of your own when you set one,
# else the local edge, which serves RTMP on its push port (and HLS on the play domain's).
DEV_RTMP_PLAY_DOMAIN := $(or $(TENCENT_LIVE_PLAY_DOMAIN),$(TENCENT_LIVE_PUSH_DOMAIN),127.0.0.1:$(RTMP_PORT))

run run-env: export WEB_PORT := $(WEB_PORT)
run run-env: export SIM_PORT := $(SIM_PORT)
run run-env: export TENCENT_LIVE_ENDPOINT ?= http://127.0.0.1:$(SIM_PORT)
run run-env: export SIM_CALLBACK_URL ?= http://127.0.0.1:$(WEB_PORT)/callbacks/tencent/
run run-env: export TENCENT_LIVE_PUSH_DOMAIN ?= 127.0.0.1:$(RTMP_PORT)
run run-env: export TENCENT_LIVE_PLAY_DOMAIN ?= 127.0.0.1:$(HLS_PORT)
run run-env: export TENCENT_LIVE_RTMP_PLAY_DOMAIN ?= $(DEV_RTMP_PLAY_DOMAIN)
# web, worker and beat write their metrics samples here; /metrics adds them up (README, "Metrics")
run: export PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/.metrics

run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py demo_accounts
	@echo "web        http://127.0.0.1:$(WEB_PORT)/  (API /api/v1/, admin /admin/)"
	@echo "simulator  http://127.0.0.1:$(SIM_PORT)/  (Tencent stand-in: API 3.0 /, legacy /common_access, control /sim/)"
	@echo "           callbacks to $$SIM_CALLBACK_URL; the app calls the cloud at $$TENCENT_LIVE_ENDPOINT"
	@echo "worker     Celery worker, broker $(or $(CELERY_BROKER_URL),$(REDIS_URL),sqla+sqlite:///celery-broker.sqlite3 (embedded))"
	@echo "beat       Celery beat (sweeper every $${SWEEP_INTERVAL:-60} s, counter flush every $${COUNTER_FLUSH_INTERVAL:-5} s)"
	@echo "edge       $$TENCENT_LIVE_PUSH_DOMAIN (RTMP), http://$$TENCENT_LIVE_PLAY_DOMAIN/live/<stream>.m3u8 (HLS): nginx-rtmp, when installed"
	@echo "           RTMP play URLs: rtmp://$$TENCENT_LIVE_RTMP_PLAY_DOMAIN/live/<stream>"
	@rm -rf .metrics && mkdir -p "$$PROMETHEUS_MULTIPROC_DIR"
	@echo "metrics    http://127.0.0.1:$(WEB_PORT)/metrics (from this machine), operator page /admin/operations/"
	$(BIN)/honcho start -f Procfile

run-env:  ## print the environment `make run` gives its processes (ports, development domains)
	@env | grep -E '^(WEB_PORT|SIM_PORT|SIM_CALLBACK_URL|TENCENT_LIVE_[A-Z_]+)=' | sort

test: venv
	@DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python scripts/check_services.py
	$(BIN)/ruff check .
	DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	@scripts/ensure_browser.sh
	@scripts/ensure_media.sh
	@scripts/ensure_scaleout.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest --create-db

screenshots: venv  ## regenerate docs/screenshots/*.png (the web pages at desktop and phone width)
	@scripts/ensure_browser.sh
	@scripts/ensure_media.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SCREENSHOTS=1 $(BIN)/pytest tests/browser/test_screenshots.py tests/browser/test_real_stream.py tests/browser/test_moderation.py tests/browser/test_stream_health.py

bench: venv  ## the SPEC §12 workload on gunicorn + PostgreSQL + Redis, driven by wrk; writes bench/results.md
	$(BIN)/python bench/run.py
	$(BIN)/python bench/events.py

bench-events: venv  ## 10,000 event-stream clients of the events processes as deploy/Procfile runs them; adds to bench/results.md
	$(BIN)/python bench/events.py

bench-outage: venv  ## the list's requests/s while Redis is stopped or killed, against the normal uncached list
	$(BIN)/python bench/redis_outage.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .edge .metrics staticfiles db.sqlite3 celery-broker.sqlite3 celerybeat-schedule* .sweep-rooms.lock

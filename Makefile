# The two commands a new user needs: `make run` (the whole system on this machine) and
# `make test`. Everything is installed on first use: a virtual environment from uv.lock, and
# DynamoDB Local from the npm registry into .cache/. `make deploy` puts it on AWS.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .cache/uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# Each Python layer's requirements file, from uv.lock (made at the end of this file).
LAYER_REQUIREMENTS := layers/appointments/requirements.txt layers/pdf-rendering/requirements.txt
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Python caches the bytecode of what it imports (in __pycache__, ignored by git and by sam
# build), also where the shell says PYTHONDONTWRITEBYTECODE: the local stack starts a process
# per function, and each would compile its imports again.
unexport PYTHONDONTWRITEBYTECODE

# Each function's import next to `import boto3` and its size for Lambda, handler cost next to
# the bare DynamoDB request, the release's requests per
# slot, notice rendering, and contended bookings through the local stack's gateway next to the
# raw DynamoDB Local rate, the site's pages next to their JSON twins with the weight of the
# first visit, and a release rush of people and scripts with the defences off and on (prints
# tables; the handlers' metric lines are switched off).
bench: export POWERTOOLS_METRICS_DISABLED := true
bench: dynamodb-local catalogues assets system-packages $(LAYER_REQUIREMENTS)
	@PYTHONPATH=layers/appointments:. $(BIN)/python -W ignore -m tests.bench.cold_start_bench
	@echo
	@PYTHONPATH=layers/appointments:. $(BIN)/python -W ignore -m tests.bench.api_bench
	@echo
	@PYTHONPATH=layers/appointments:. $(BIN)/python -W ignore -m tests.bench.release_bench
	@echo
	@PYTHONPATH=layers/appointments:. $(BIN)/python -W ignore -m tests.bench.notice_bench
	@echo
	@PYTHONPATH=layers/appointments:. $(BIN)/python -W ignore -m tests.bench.gateway_bench
	@echo
	@PYTHONPATH=layers/appointments:. $(BIN)/python -W ignore -m tests.bench.site_bench
	@echo
	@PYTHONPATH=layers/appointments:. $(BIN)/python -W ignore -m tests.bench.rush_bench

# One release minute on the local stack, people played by locust (tests/load): figures per
# route, and every slot read back for overbooking. Not a test; settings LOAD_USERS (50),
# LOAD_SPAWN_RATE (10/s), LOAD_SECONDS (60), LOAD_RELEASE_AFTER (10).
load: export POWERTOOLS_METRICS_DISABLED := true
load: dynamodb-local catalogues assets
	@PYTHONPATH=layers/appointments:. $(BIN)/python -W ignore -m tests.load.release_load

# The whole system on http://127.0.0.1:3000 (settings: see infra/local/stack.py). Ctrl-C stops it.
run: install catalogues assets system-packages
	@echo "==> Starting the local stack (Ctrl-C to stop)"
	@$(BIN)/python -m infra.local

# AWS SAM CLI in its own environment; sam build needs Python 3.12 (the Lambda runtime) on PATH.
SAM_VERSION := 1.170.0
SAM := .cache/sam/bin/sam
PYTHON312_BIN := $(lastword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin))
$(SAM):
	@echo "==> Installing AWS SAM CLI $(SAM_VERSION) into .cache/sam"
	@$(PYTHON) -m venv .cache/sam
	@.cache/sam/bin/pip install --quiet "aws-sam-cli==$(SAM_VERSION)"

# Build and deploy to the AWS account of your credentials; guided the first time from this
# checkout (the answers are saved in samconfig.toml). Then the site's assets go to the stack's
# assets bucket, and CloudFront drops its copies of the old ones (infra/tools/upload_assets.py).
# The template's Fn::ForEach loops (the functions' alarms) need SAM CLI's AWS::LanguageExtensions
# support, which it turns on when asked.
deploy: export SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS := 1
deploy: $(SAM) $(LAYER_REQUIREMENTS) notice-layer assets
	@PATH="$(PYTHON312_BIN):$$PATH" $(SAM) build
	@$(SAM) deploy $(if $(wildcard .aws-sam/deployed),,--guided)
	@touch .aws-sam/deployed
	@$(BIN)/python -m infra.tools.upload_assets

.PHONY: run deploy bench load install test lint assets catalogues messages system-packages browser-packages screenshots layer-build-packages test-packages test-prerequisites notice-layer typecheck template-lint openapi unit integration dynamodb-local clean

$(UV):
	@echo "==> Installing uv $(UV_VERSION) into .cache/uv"
	@$(PYTHON) -m venv .cache/uv
	@.cache/uv/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	@echo "==> Creating $(VENV) from uv.lock"
	@$(UV) sync --frozen --quiet
	@touch $@

install: $(VENV)/.synced

dynamodb-local: install
	@$(BIN)/python -c "from infra.local.dynamodb_local import ensure_installed; ensure_installed()"

lint: install
	@echo "==> ruff"
	@$(BIN)/ruff format --check .
	@$(BIN)/ruff check .

typecheck: install
	@echo "==> mypy"
	@$(BIN)/mypy .

template-lint: install
	@echo "==> cfn-lint template.yaml"
	@$(BIN)/cfn-lint template.yaml

openapi: install
	@$(BIN)/python -m infra.tools.openapi

unit: install
	@$(BIN)/pytest tests/unit

integration: dynamodb-local
	@$(BIN)/pytest tests/integration

# Debian packages, installed when missing (apt-get, with sudo unless root).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
define apt_ensure
	@dpkg -s $(1) >/dev/null 2>&1 || { \
	  echo "==> Installing $(1) (apt-get)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(1) >/dev/null; }
endef

# What WeasyPrint needs to draw the notice here: pango and the Noto fonts of all 12 languages.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-noto-cjk
system-packages:
	$(call apt_ensure,$(SYSTEM_PACKAGES))

# Only the browser tests (tests/browser) need it: Debian's Chromium headless shell, which
# Playwright drives (Playwright's own browser builds are never downloaded). `pytest --headed`
# needs the full browser too: apt-get install chromium.
BROWSER_PACKAGES := chromium-headless-shell
browser-packages:
	$(call apt_ensure,$(BROWSER_PACKAGES))

# The notice-rendering layer for Lambda (pango, fonts and templates at /opt; see
# layers/notice-rendering/README.md), built from Debian bookworm's packages. Building it takes
# dpkg-source, cmake and a C compiler for the layer's architecture (expat is compiled).
NOTICE_LAYER_ARCH ?= arm64
LAYER_BUILD_PACKAGES := dpkg-dev cmake gcc
CROSS_COMPILER := $(if $(filter arm64,$(NOTICE_LAYER_ARCH)),$(if $(filter aarch64,$(shell uname -m)),,gcc-aarch64-linux-gnu))
layer-build-packages:
	$(call apt_ensure,$(LAYER_BUILD_PACKAGES) $(CROSS_COMPILER))

notice-layer: install layer-build-packages
	@$(BIN)/python -m infra.layers.notice_layer --arch $(NOTICE_LAYER_ARCH)

# The web site's style and script (USWDS, compiled with Sass) in .cache/site-assets; the npm
# packages come from infra/assets/package-lock.json. Node.js and npm must be installed.
ASSETS_NODE := infra/assets/node_modules/.installed
ASSETS := .cache/site-assets/site.css
$(ASSETS_NODE): infra/assets/package-lock.json
	@echo "==> Installing the site's npm packages from infra/assets/package-lock.json"
	@npm ci --prefix infra/assets --ignore-scripts --no-audit --no-fund --silent
	@touch $@

$(ASSETS): $(ASSETS_NODE) infra/assets/build.py $(wildcard templates/site/assets/*) | $(VENV)/.synced
	@echo "==> Building the site's assets"
	@$(BIN)/python -m infra.assets.build

assets: $(ASSETS)

# The notice's and the site's translations: .po files in the repository, compiled here to .mo.
catalogues: install
	@$(BIN)/pybabel -q compile -d templates/locale -D messages
	@$(BIN)/pybabel -q compile -d templates/locale -D site

# Refresh the .pot files after changing translatable strings (a test checks they are fresh).
messages:
	@$(BIN)/pybabel extract -F babel.cfg -k N_ -o templates/locale/messages.pot --no-location --omit-header .
	@$(BIN)/pybabel extract -F templates/site/babel.cfg -k N_ -o templates/locale/site.pot --no-location --omit-header .

# Everything the tests need, made side by side (the Debian packages in one apt-get run), then
# the tests in two processes: a module's tests together, a page's browser checks together, the
# longest groups first (tests/conftest.py orders them; xdist's own order, by size, is off).
# (cfn-lint runs in the tests, tests/unit/test_template.py, as `make template-lint` runs it.)
TEST_PACKAGES := $(SYSTEM_PACKAGES) $(BROWSER_PACKAGES) $(LAYER_BUILD_PACKAGES) $(CROSS_COMPILER)
test-packages:
	$(call apt_ensure,$(TEST_PACKAGES))

test-prerequisites: lint typecheck dynamodb-local catalogues assets test-packages

# Test processes: more than the two cores, since much of an end-to-end or browser test is
# waiting (for the stack's processes, a page, a time-lock): with two, the cores stood idle
# 40% of the time; with three, the suite takes 5 minutes 20 seconds on two cores.
TEST_PROCESSES ?= 3

test:
	@$(MAKE) --no-print-directory -j 4 --output-sync=target test-prerequisites
	@echo "==> pytest (unit, integration on DynamoDB Local, end-to-end and browser on the local stack)"
	@$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadgroup --no-loadscope-reorder

# The pictures of the site in README (docs/screenshots): the browser tests photograph every page
# into .cache/screenshots; three of them are kept.
SCREENSHOTS := home-en home-ar home-zh
screenshots: dynamodb-local catalogues assets browser-packages
	@$(BIN)/pytest -q -p no:cacheprovider tests/browser -k drawn_with_its_style
	@mkdir -p docs/screenshots
	@for name in $(SCREENSHOTS); do cp .cache/screenshots/$$name.png docs/screenshots/; done

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache layers/notice-rendering/build

# The layers' requirements for `sam build`, exported from the lock file (a test checks they
# match): the domain layer's from the project's dependencies, the PDF layer's from the
# `rendering` group. Each pins everything it needs: the few packages both need (cffi) would
# otherwise come unpinned with the PDF layer, as its packages' dependencies.
LAYER_EXPORT := $(UV) export --frozen --no-emit-project --no-hashes --no-header -q
layers/appointments/requirements.txt: uv.lock | $(UV)
	@$(LAYER_EXPORT) --no-default-groups -o $@

layers/pdf-rendering/requirements.txt: uv.lock | $(UV)
	@$(LAYER_EXPORT) --only-group rendering -o $@

# Cutline: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cutline
TEST_REDIS_URL ?= redis://127.0.0.1:6379/9
PYTEST_ARGS ?=

export REDIS_URL

.PHONY: run test lint setup system-deps browser-deps bench-deps js-deps clean

# Debian packages the project needs: ffprobe (media probing), setpriv, redis-server (a test restarts its own),
# Chromium for the browser tests.
# Installed when missing and we may (root with apt-get); otherwise a clear message says what to install.
apt_install = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then echo "Installing Debian packages: $(1)"; (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null) || { echo "apt-get could not install $(1)"; exit 1; }; else echo "Cutline needs $(2). Install it with your package manager (Debian/Ubuntu: apt-get install $(1))."; exit 1; fi

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Cutline needs Python 3.11 or newer (found " + sys.version.split()[0] + ").")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: system-deps $(BIN)/.installed

# Fonts for titles and captions (Latin, Hangul/CJK, Arabic, Hebrew; see docs/text-and-captions.md) and
# libraqm, which Pillow loads to shape right-to-left scripts.
FONT_PACKAGES := fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji fonts-dejavu-core fonts-liberation libraqm0

system-deps:
	@command -v ffprobe >/dev/null 2>&1 || { $(call apt_install,ffmpeg,ffprobe from ffmpeg); }
	@dpkg-query -W -f='$${Status}\n' $(FONT_PACKAGES) 2>/dev/null | grep -c '^install ok installed' | grep -qx "$(words $(FONT_PACKAGES))" \
		|| { $(call apt_install,$(FONT_PACKAGES),the fonts and libraqm for titles); }
	@command -v setpriv >/dev/null 2>&1 || { $(call apt_install,util-linux,setpriv from util-linux (encoders die with their worker)); }
	@command -v redis-server >/dev/null 2>&1 || { $(call apt_install,redis-server,redis-server (the worker's Redis-restart test starts its own)); }

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { $(call apt_install,chromium,Chromium for the browser tests); }

# Only bench_render needs MLT's melt (its peers= line); it is not part of setup/test/run.
bench-deps:
	@command -v melt >/dev/null 2>&1 || { $(call apt_install,melt,MLT's melt for the bench peers line); }

# Local development: DEBUG on (dev SECRET_KEY, static files from the apps), SQLite under var/.
run: export DEBUG ?= 1
run: export PATH := $(CURDIR)/$(BIN):$(PATH)
run: setup
	mkdir -p var
	$(BIN)/python manage.py check_redis --start
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo --base-url http://127.0.0.1:$(PORT)
	@echo "Cutline is starting on http://127.0.0.1:$(PORT)/ (Ctrl-C stops web and worker)."
	$(BIN)/honcho start -f Procfile -p $(PORT)

# Test-only npm packages (axe-core for the accessibility checks), from tests/js/package-lock.json.
tests/js/node_modules/.installed: tests/js/package.json tests/js/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "The tests need Node.js 20 and npm (Debian: apt-get install nodejs npm)."; exit 1; }
	cd tests/js && npm ci --no-audit --no-fund --silent
	touch $@

js-deps: tests/js/node_modules/.installed

test: setup browser-deps js-deps
	node --test tests/js/
	DEBUG=0 SECRET_KEY=test-only-secret-key $(BIN)/python manage.py collectstatic --noinput -v0
	DEBUG=0 SECRET_KEY=test-only-secret-key DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache tests/js/node_modules

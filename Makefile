# Everything installs into .venv on first use, so a fresh clone needs only Python 3.11+.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run test bench bench-encoders clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $@

install: $(STAMP)  ## create .venv; the command is then .venv/bin/sora-bot
	@echo "sora-bot is installed at $(VENV)/bin/sora-bot"

run: $(STAMP)  ## start the bot (the console and the local stand-in when no tokens are set)
	$(VENV)/bin/sora-bot run

test: $(STAMP)  ## run the test suite
	$(PY) -m pytest -q

bench: $(STAMP)  ## the benchmark against local stand-ins, not a test: ~10 min; quick: make bench ARGS="--jobs 50 --repeat 1"
	$(PY) benchmarks/load.py $(ARGS)

bench-encoders: $(STAMP)  ## which x264 preset shrinking should use, measured: ~4 min; ARGS="--clip-seconds 20 --repeat 2"
	$(PY) benchmarks/encoders.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies in their own layer, from pyproject.toml alone: a code change reuses this
# layer instead of reinstalling every dependency.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code. --no-deps: everything it needs is in the layer above.
COPY README.md ./
COPY bot bot
COPY adapters adapters
COPY storage storage
RUN pip install --no-deps .

# Run as a user without privileges; it owns only the data volume.
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin sora \
    && mkdir -p /data \
    && chown sora:sora /data

# The SQLite ledger, the videos, the stand-in's tasks and the console's log live on a volume,
# so money and jobs survive restarts.
ENV SORA_DB=/data/sora.db SORA_MEDIA_DIR=/data/videos PORT=3000
VOLUME /data
USER sora

# /healthz on PORT: served by Slack's HTTP server in Slack HTTP mode, by the bot's own
# endpoints otherwise (Discord, Slack Socket Mode, or no chat token at all).
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

# Without -it there is no terminal: with no chat token the bot says so in one line and
# serves /healthz until `docker stop` (SIGTERM). With `docker run -it` and no token, the
# console starts instead.
CMD ["sora-bot", "run"]

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY adapters adapters
COPY storage storage
RUN pip install --no-cache-dir .
# The SQLite ledger and the videos live on a volume so money and jobs survive restarts.
ENV SORA_DB=/data/sora.db SORA_MEDIA_DIR=/data/videos
VOLUME /data
# Slack HTTP mode and the public image links listen here.
EXPOSE 3000
CMD ["sora-bot", "run"]

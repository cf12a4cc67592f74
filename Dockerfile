# WSO Custody Clock: `wso-bot serve` on port 3000, SQLite database on the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install -c constraints.txt .

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin wso \
    && mkdir -p /data /config && chown wso:wso /data

ENV WSO_DB=/data/wso.db \
    WSO_CONFIG=/config/wso.toml \
    PORT=3000
VOLUME ["/data"]
EXPOSE 3000
USER wso

HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)" || exit 1

# Mount the config read-only: docker run -v ./wso.toml:/config/wso.toml:ro -v wso-data:/data ...
ENTRYPOINT ["wso-bot"]
CMD ["serve"]

# SMTP AUTH Readiness in a container: a slim Python base, the pinned requirements in a virtual
# environment, a non-root user, SQLite data on a volume (or PostgreSQL through DATABASE_URL).
# How it is installed, started and probed lives in deploy/container.sh, which the tests run too.
#
#   docker build -t smtp-auth-readiness .
#   docker run -p 3978:3978 -v smtp-auth-data:/data --env-file .env smtp-auth-readiness
FROM python:3.11.14-slim-bookworm

ENV APP_HOME=/app \
    VENV=/opt/venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    PORT=3978 \
    DATABASE_URL=sqlite+aiosqlite:////data/smtp-auth-readiness.db \
    PGSSLROOTCERT=/etc/ssl/certs/ca-certificates.crt

RUN groupadd --system --gid 10001 bot \
 && useradd --system --uid 10001 --gid bot --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin bot \
 && mkdir -p /data && chown bot:bot /data

WORKDIR /app
# Requirements first: the dependency layer is rebuilt only when requirements.txt changes.
COPY requirements.txt /app/requirements.txt
COPY deploy/container.sh /app/deploy/container.sh
RUN /app/deploy/container.sh install
COPY app.py /app/app.py
COPY bot /app/bot
COPY cards /app/cards
COPY manifest /app/manifest

USER bot
VOLUME ["/data"]
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/app/deploy/container.sh", "healthcheck"]
CMD ["/app/deploy/container.sh", "start"]

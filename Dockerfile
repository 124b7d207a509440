# Tongban's container image: `tongban` is the entry point (`run` by default).
# Build: docker build -t tongban .   Run it with compose.yaml (docs/deploy.md).
#
# Two stages: the first installs Tongban and its dependencies into a virtual environment
# and compiles the translations; the second copies only that environment and the source
# into a fresh slim image, so pip's build requirements and caches stay behind.
# The CJK font for chart labels comes with the dependencies (noto-cjk-sans-otc).

ARG PYTHON_IMAGE=python:3.12-slim-trixie

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
COPY flows ./flows
COPY migrations ./migrations
COPY locales ./locales
# Editable: Tongban finds its migrations and catalogs beside its code, in /app.
RUN /opt/venv/bin/pip install --editable . \
    && /opt/venv/bin/python -c "from bot.i18n import compile_catalogs; compile_catalogs()" \
    && /opt/venv/bin/python -m compileall -q /app/bot /app/flows /app/migrations

FROM ${PYTHON_IMAGE}
# pg_dump/pg_restore for `tongban db backup` / `restore` on PostgreSQL (Debian 13: 17,
# the major version of the database in compose.yaml).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/tongban tongban \
    && mkdir -p /data /backups \
    && chown tongban:tongban /data /backups
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/home/tongban/.cache/matplotlib \
    TONGBAN_DATABASE_URL=sqlite:////data/tongban.db \
    TONGBAN_WEBHOOK_LISTEN=0.0.0.0 \
    TONGBAN_WEBHOOK_PORT=8443
USER 10001:10001
WORKDIR /home/tongban
VOLUME ["/data"]
EXPOSE 8443
ENTRYPOINT ["tongban"]
CMD ["run"]

# One image for both allim services: `allim-exporter` (default, :8877) and `allim-bridge` (:8000).

# Build stage: allim and its dependencies installed into a virtual environment, /opt/allim. Only that directory
# reaches the image: no sources, no pip cache, nothing a build needed.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml README.md ./
COPY allim ./allim
COPY exporter ./exporter
COPY bridge ./bridge
# The postgres extra (psycopg's binary wheel, with its own libpq) lets replicas share a PostgreSQL outbox. The
# environment has no pip of its own (the base image's installs into it).
RUN python -m venv --without-pip /opt/allim \
    && pip --python /opt/allim/bin/python install .[postgres]

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/allim/bin:$PATH
COPY --from=build /opt/allim /opt/allim
# User and group 10001, as deploy/kubernetes/ runs it (runAsUser, runAsGroup, fsGroup).
RUN groupadd --system --gid 10001 allim \
    && useradd --system --uid 10001 --gid allim --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin allim \
    && mkdir -p /data \
    && chown allim /data

USER allim
# The bridge's SQLite outbox; docker-compose.yml mounts a volume here.
ENV BRIDGE_DATA_DIR=/data
EXPOSE 8877 8000

# The slim image has no curl: Python checks /healthz. Set HEALTH_URL to the bridge's port when running the bridge.
ENV HEALTH_URL=http://127.0.0.1:8877/healthz
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTH_URL'], timeout=4)"]

CMD ["allim-exporter", "--web.listen-address=:8877"]

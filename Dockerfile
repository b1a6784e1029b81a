# syntax=docker/dockerfile:1
# The one image that docker-compose.yml runs as `web` (gunicorn) and `worker` (Celery).
#
#   docker build -t depthtiles .
#
# Two stages: `builder` compiles the dependencies into a virtualenv at /opt/venv
# (pylibtiff, large_image's tiff reader, has no wheel: pip builds it with gcc against
# libtiff's headers); `runtime` copies that virtualenv and adds only the shared
# libraries it loads. Keep both stages on bookworm: pylibtiff ships bindings for
# libtiff 4.5.0 (bookworm's libtiff6); on another libtiff it parses tiff.h at import.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libtiff-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Dependencies only (`packages = []` in pyproject.toml): this layer is rebuilt when
# pyproject.toml changes, not on every code change.
WORKDIR /src
COPY pyproject.toml README.md ./
RUN pip install --upgrade pip \
    && pip install . \
    && pip check


FROM ${PYTHON_IMAGE} AS runtime

# libtiff6: loaded by pylibtiff through ctypes at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libtiff6 \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged user; /data (the shared media volume) belongs to it, so a
# fresh named volume mounted there starts with the same owner.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app \
    && mkdir -p /data/media \
    && chown -R app:app /data

COPY --from=builder /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=project.settings.production \
    DJANGO_DATA_DIR=/data \
    DJANGO_MEDIA_ROOT=/data/media

WORKDIR /app
# The code, owned by root and read-only to the app user (.dockerignore keeps out
# .venv, var/, .env, tests and caches).
COPY . /app

USER app

EXPOSE 8000

# The web process; docker-compose.yml runs migrations first and gives the worker its own command.
CMD ["gunicorn", "project.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--worker-class", "sync"]

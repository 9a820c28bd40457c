# syntax=docker/dockerfile:1.7-labs
# One image per service, all from the one uv.lock:
#   docker build --build-arg SERVICE=registry -t liaison-registry .
#   docker build --build-arg SERVICE=gateway  -t liaison-gateway .
# SERVICE is the workspace package without its "liaison-" prefix. The image
# runs `python -m <module>`; the chart passes the module (registry.api,
# registry.worker, registry.migrate, gateway).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.8

FROM ${UV_IMAGE} AS uv

# ---- builder: resolve the service's dependencies from uv.lock into /app/.venv
FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE
RUN test -n "${SERVICE}" || (echo "pass --build-arg SERVICE=<registry|...|gateway>" && false)
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

# Third-party dependencies first: this layer is reused until the lock or a
# pyproject.toml changes, not on every source edit.
COPY --parents pyproject.toml uv.lock protos/gen/python/pyproject.toml services/*/pyproject.toml gateway/pyproject.toml ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "liaison-${SERVICE}"

# Then the workspace packages the service needs (editable, so code that
# finds files beside its package, like services/<svc>/migrations, works).
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package "liaison-${SERVICE}"

# Keep only the source of the workspace members this service depends on.
RUN mkdir /out \
    && uv export --frozen --no-dev --package "liaison-${SERVICE}" --no-hashes --no-header --no-annotate \
       | sed -n 's#^-e \./##p' > /tmp/members \
    && echo "workspace members: $(tr '\n' ' ' < /tmp/members)" \
    && tar -cf - .venv $(cat /tmp/members) | tar -xf - -C /out \
    && python -m compileall -q $(sed 's#^#/out/#' /tmp/members)

# ---- runtime: the interpreter, the venv and the source; no uv, no compilers
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="liaison-${SERVICE}" \
      org.opencontainers.image.description="Deputy Liaison Platform: ${SERVICE}"
RUN groupadd --system --gid 10001 liaison \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin liaison
COPY --from=builder --chown=root:root /out /app
ENV PATH=/app/.venv/bin:${PATH} \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LIAISON_ENV=production \
    LIAISON_VAR_DIR=/tmp/liaison
WORKDIR /app
# Numeric, so Kubernetes can verify runAsNonRoot.
USER 10001:10001
ENTRYPOINT ["python", "-m"]

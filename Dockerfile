# One image per service, all from the one uv.lock:
#   docker build --build-arg SERVICE=registry -t liaison-registry .
#   docker build --build-arg SERVICE=gateway  -t liaison-gateway .
# SERVICE is the workspace package without its "liaison-" prefix. The image
# runs `python -m <module>`; the chart passes the module (registry.api,
# registry.worker, registry.migrate, gateway).
#
# `make images` builds every one (docker, else podman). Where no registry
# is reachable it first makes the two base images from Debian's packages
# and PyPI (scripts/containers/base-images.sh) and passes them here:
#   PYTHON_IMAGE=localhost/liaison-python:3.11-bookworm  PYTHON=/usr/bin/python3.11
#   UV_IMAGE=localhost/liaison-uv:0.13.8                 (the uv binary of the PyPI wheel, at /uv)
# A host whose HTTPS goes through its own certificate authority passes that
# bundle as the build secret "ca-certificates"; it is used to download and
# never stored in a layer.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.8

FROM ${UV_IMAGE} AS uv

# ---- manifests: only what dependency resolution reads (the lock and every
# workspace member's pyproject.toml), so the dependency layer below is
# reused until one of them changes, not on every source edit.
FROM ${PYTHON_IMAGE} AS manifests
COPY . /src
RUN mkdir /manifests \
    && cd /src \
    && find . \( -name pyproject.toml -o -name uv.lock \) -not -path './.venv/*' \
       | tar -cf - -T - | tar -xf - -C /manifests

# ---- builder: resolve the service's dependencies from uv.lock into /app/.venv
FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE
# Where the base image has its interpreter (python:*-slim: /usr/local/bin;
# Debian's python3.11 package: /usr/bin).
ARG PYTHON=/usr/local/bin/python3.11
RUN test -n "${SERVICE}" || (echo "pass --build-arg SERVICE=<registry|...|gateway>" && false)
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=${PYTHON} \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

# Third-party dependencies first: this layer is reused until the lock or a
# pyproject.toml changes, not on every source edit.
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export SSL_CERT_FILE=/run/secrets/ca-certificates; fi \
    && uv sync --frozen --no-dev --no-install-workspace --package "liaison-${SERVICE}"

# Then the workspace packages the service needs (editable, so code that
# finds files beside its package, like services/<svc>/migrations, works).
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export SSL_CERT_FILE=/run/secrets/ca-certificates; fi \
    && uv sync --frozen --no-dev --package "liaison-${SERVICE}"

# Keep only the source of the workspace members this service depends on.
RUN mkdir /out \
    && uv export --frozen --no-dev --package "liaison-${SERVICE}" --no-hashes --no-header --no-annotate \
       | sed -n 's#^-e \./##p' > /tmp/members \
    && echo "workspace members: $(tr '\n' ' ' < /tmp/members)" \
    && tar -cf - .venv $(cat /tmp/members) | tar -xf - -C /out \
    && "${PYTHON}" -m compileall -q $(sed 's#^#/out/#' /tmp/members)

# ---- runtime: the interpreter, the venv and the source; no uv, no compilers
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
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
# Last, so a new revision changes only this layer.
ARG VERSION=0.0.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="liaison-${SERVICE}" \
      org.opencontainers.image.description="Deputy Liaison Platform: ${SERVICE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

#!/usr/bin/env bash
# Build the image of every service (services/kit/kit/services.toml) and of
# the gateway from the one Dockerfile, with docker where it answers and
# podman otherwise, on the base images base-images.sh provides (upstream
# where a registry is reachable, made from Debian's packages where not).
# Images are tagged liaison-<name>:<version> and liaison-<name>:latest and
# carry the OCI labels version and revision. Layers are shared: the
# dependency layers are rebuilt only when uv.lock or a pyproject.toml changes.
# Usage: scripts/containers/images.sh [name ...]   (default: every image)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/containers/engine.sh
. scripts/containers/engine.sh
log() { printf '[images] %s\n' "$*" >&2; }

declare -A base
while IFS='=' read -r key value; do base[$key]=$value; done < <(bash scripts/containers/base-images.sh)

services=$(sed -n 's/^\[services\.\([a-z0-9]*\)\][[:space:]]*$/\1/p' services/kit/kit/services.toml)
names=("${@:-}")
[ -n "${names[0]}" ] || names=($services gateway)

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || revision="$revision-dirty"
# Layer timestamps from the last commit, so a rebuild of the same commit
# gives the same layers (podman; docker's classic builder has no such option).
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)

args=(--build-arg "PYTHON_IMAGE=${base[PYTHON_IMAGE]}" --build-arg "PYTHON=${base[PYTHON]}"
      --build-arg "UV_IMAGE=${base[UV_IMAGE]}"
      --build-arg "VERSION=$version" --build-arg "REVISION=$revision")
if [ "$ENGINE" = podman ]; then
  args+=(--layers --timestamp "$epoch")
else
  export DOCKER_BUILDKIT=1
fi
# The host's certificate bundle, for a host whose HTTPS goes through its own
# authority (a build secret: used to download, never stored in the image).
ca=${LIAISON_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[ -s "$ca" ] && args+=(--secret "id=ca-certificates,src=$ca")

for name in "${names[@]}"; do
  started=$(date +%s)
  nice -n 10 "$ENGINE" build "${args[@]}" --build-arg "SERVICE=$name" \
    -t "localhost/liaison-$name:$version" -t "localhost/liaison-$name:latest" -f Dockerfile . >&2
  log "built localhost/liaison-$name:$version in $(($(date +%s) - started))s"
done

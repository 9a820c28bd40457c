#!/usr/bin/env bash
# The base images the Dockerfile builds on, and the images of the chart's
# development PostgreSQL and RabbitMQ, with the build arguments for them
# printed on stdout (KEY=VALUE lines, read by images.sh and platform.py).
#
# Where a registry is reachable: the pinned upstream images (the Dockerfile's
# defaults, the chart's postgres and rabbitmq images), pulled.
# Where none is: images made here from Debian's packages (bookworm, with its
# security updates) and PyPI:
#   localhost/liaison-python:3.11-bookworm   Debian's python3.11 (/usr/bin/python3.11), minbase
#   localhost/liaison-uv:<version>           the uv binary of uv's PyPI wheel, at /uv
#   localhost/liaison-postgres:15-bookworm   Debian's postgresql-15 and rabbitmq-server, with
#   localhost/liaison-rabbitmq:3.10-bookworm entrypoints that read the upstream images' variables
#                                            (scripts/containers/devservices/)
# Made once and kept: an image younger than LIAISON_BASE_MAX_AGE_DAYS (7)
# is reused, so security updates arrive within a week. The root filesystems
# are also kept as tarballs in LIAISON_IMAGE_CACHE (~/.cache/liaison-images),
# for a CI cache to carry them between fresh machines.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/containers/engine.sh
. scripts/containers/engine.sh

log() { printf '[images] %s\n' "$*" >&2; }
[ -n "$ENGINE" ] || { log "neither docker nor podman is installed"; exit 1; }

UV_VERSION=$(sed -n 's#^ARG UV_IMAGE=.*uv:\(.*\)$#\1#p' Dockerfile)
UPSTREAM_PYTHON=docker.io/library/$(sed -n 's#^ARG PYTHON_IMAGE=\(.*\)$#\1#p' Dockerfile)
UPSTREAM_UV=$(sed -n 's#^ARG UV_IMAGE=\(.*\)$#\1#p' Dockerfile)
UPSTREAM_POSTGRES=docker.io/library/postgres:16.6-bookworm
UPSTREAM_RABBITMQ=docker.io/library/rabbitmq:3.13.7-management
LOCAL_PYTHON=localhost/liaison-python:3.11-bookworm
LOCAL_UV=localhost/liaison-uv:$UV_VERSION
LOCAL_POSTGRES=localhost/liaison-postgres:15-bookworm
LOCAL_RABBITMQ=localhost/liaison-rabbitmq:3.10-bookworm
CACHE=${LIAISON_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/liaison-images}
MAX_AGE_DAYS=${LIAISON_BASE_MAX_AGE_DAYS:-7}
mkdir -p "$CACHE"

# Pulled within a minute, or no registry is reachable.
pulled() { timeout 120 "$ENGINE" pull -q "$1" >/dev/null 2>&1; }

fresh_image() {
  local created
  created=$("$ENGINE" image inspect --format '{{.Created.Unix}}' "$1" 2>/dev/null) || return 1
  [ $(($(date +%s) - created)) -lt $((MAX_AGE_DAYS * 86400)) ]
}

# A Debian bookworm root filesystem with these packages, as a tarball in the cache.
rootfs() {
  local name=$1; shift
  local tarball="$CACHE/$name.tar"
  if [ -s "$tarball" ] && [ -z "$(find "$tarball" -mtime +"$MAX_AGE_DAYS")" ]; then
    echo "$tarball"; return
  fi
  command -v mmdebstrap >/dev/null || { log "mmdebstrap is missing (apt-get install mmdebstrap)"; exit 1; }
  log "making the $name root filesystem from Debian's packages: $*"
  local include
  include=$(IFS=,; echo "$*")
  nice -n 10 mmdebstrap --quiet --format=tar --variant=minbase --include="$include" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    bookworm "$tarball.partial" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >&2
  mv "$tarball.partial" "$tarball"
  echo "$tarball"
}

local_python() {
  fresh_image "$LOCAL_PYTHON" && return
  "$ENGINE" import -q --change 'CMD ["/usr/bin/python3.11"]' \
    "$(rootfs python3.11 python3.11 ca-certificates)" "$LOCAL_PYTHON" >/dev/null
  log "made $LOCAL_PYTHON"
}

local_uv() {
  "$ENGINE" image inspect "$LOCAL_UV" >/dev/null 2>&1 && return
  local work arch
  work=$(mktemp -d)
  arch=$(uname -m)
  log "taking uv $UV_VERSION from its PyPI wheel"
  # The wheel's address from PyPI's simple index, in its JSON form (PEP 691;
  # no pip needed: a project's venv made by uv has none), checked against
  # the digest the index lists.
  python3 - "$work" "$UV_VERSION" "$arch" <<'PY'
import hashlib, json, pathlib, sys, urllib.request, zipfile
work, version, arch = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
index = urllib.request.Request(
    "https://pypi.org/simple/uv/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
)
with urllib.request.urlopen(index, timeout=60) as reply:
    files = json.load(reply)["files"]
tag = f"manylinux_2_17_{arch}"
(entry,) = [
    f for f in files
    if f["filename"].startswith(f"uv-{version}-") and f["filename"].endswith(".whl")
    and tag in f["filename"]
]
with urllib.request.urlopen(entry["url"], timeout=300) as reply:
    data = reply.read()
if hashlib.sha256(data).hexdigest() != entry["hashes"]["sha256"]:
    sys.exit(f"uv {version}'s wheel does not match the digest PyPI lists")
wheel = work / entry["filename"]
wheel.write_bytes(data)
with zipfile.ZipFile(wheel) as z:
    (name,) = [n for n in z.namelist() if n.endswith(".data/scripts/uv")]
    (work / "root").mkdir()
    (work / "root" / "uv").write_bytes(z.read(name))
    (work / "root" / "uv").chmod(0o755)
PY
  tar -C "$work/root" --owner=0 --group=0 --mtime=@0 -cf "$work/uv.tar" uv
  "$ENGINE" import -q "$work/uv.tar" "$LOCAL_UV" >/dev/null
  rm -rf "$work"
  log "made $LOCAL_UV"
}

local_devservices() {
  fresh_image "$LOCAL_POSTGRES" && fresh_image "$LOCAL_RABBITMQ" && return
  local base=localhost/liaison-devservices-rootfs:bookworm target
  "$ENGINE" import -q "$(rootfs devservices postgresql-15 rabbitmq-server)" "$base" >/dev/null
  for target in postgres rabbitmq; do
    local tag=$LOCAL_POSTGRES
    [ "$target" = rabbitmq ] && tag=$LOCAL_RABBITMQ
    nice -n 10 "$ENGINE" build -q --build-arg BASE="$base" --target "$target" -t "$tag" \
      -f scripts/containers/devservices/Containerfile scripts/containers/devservices >/dev/null
    log "made $tag"
  done
}

if [ "${LIAISON_LOCAL_BASE:-}" != 1 ] && pulled "$UPSTREAM_PYTHON" && pulled "$UPSTREAM_UV"; then
  log "a registry is reachable: the pinned upstream base images"
  echo "PYTHON_IMAGE=$UPSTREAM_PYTHON"
  echo "PYTHON=/usr/local/bin/python3.11"
  echo "UV_IMAGE=$UPSTREAM_UV"
  if pulled "$UPSTREAM_POSTGRES" && pulled "$UPSTREAM_RABBITMQ"; then
    echo "POSTGRES_IMAGE=$UPSTREAM_POSTGRES"
    echo "RABBITMQ_IMAGE=$UPSTREAM_RABBITMQ"
    exit 0
  fi
else
  log "no registry is reachable: base images from Debian's packages and PyPI"
  local_python
  local_uv
  echo "PYTHON_IMAGE=$LOCAL_PYTHON"
  echo "PYTHON=/usr/bin/python3.11"
  echo "UV_IMAGE=$LOCAL_UV"
fi
local_devservices
echo "POSTGRES_IMAGE=$LOCAL_POSTGRES"
echo "RABBITMQ_IMAGE=$LOCAL_RABBITMQ"

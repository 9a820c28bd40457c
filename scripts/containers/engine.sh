# shellcheck shell=bash
# The container engine the project's scripts use (source it): docker where
# it is installed and its daemon answers, podman otherwise, with the
# project's containers.conf (runc, cgroupfs, no default rlimits).
# Sets ENGINE (docker|podman) and defines `engine`; LIAISON_ENGINE forces one.

CONTAINERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

pick_engine() {
  if [ -n "${LIAISON_ENGINE:-}" ]; then
    ENGINE=$LIAISON_ENGINE
  elif command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then
    ENGINE=docker
  elif command -v podman >/dev/null; then
    ENGINE=podman
  else
    ENGINE=""
  fi
  if [ "$ENGINE" = podman ]; then
    export CONTAINERS_CONF="${CONTAINERS_CONF:-$CONTAINERS_DIR/containers.conf}"
  fi
  export ENGINE
}

engine() { "$ENGINE" "$@"; }

pick_engine

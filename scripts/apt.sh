# shellcheck shell=bash
# Installing from Debian's packages, shared by the scripts here (source it).
# Needs root: without it, say exactly what to install and fail.

log() { printf '[%s] %s\n' "${LOG_TAG:-setup}" "$*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "missing: $*"
    log "installing needs root; as root run:"
    log "  apt-get update && apt-get install -y --no-install-recommends $*"
    log "then run this again"
    exit 1
  fi
  log "installing $* from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  # Packaged servers must not start with Debian's defaults (prometheus on
  # :9090, redis with its own config): the scripts start what is needed, as
  # it is needed. A policy-rc.d already in place (containers have one) stays.
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
  fi
  local status=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } || status=$?
  if [ -n "$own_policy" ]; then rm -f "$policy"; fi
  return "$status"
}

#!/usr/bin/env bash
# Everything the tests need, on a fresh Debian machine: the tools they call,
# installed from Debian's packages when missing (needs root; without it,
# this says what to install and fails), uv, and the servers, started when
# down. `make test` and .ci/run both run it; when all is there it changes
# nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_TAG=test-deps
# shellcheck source=scripts/apt.sh
. scripts/apt.sh

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

has_chinese_font() {
  if command -v fc-list >/dev/null; then
    [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]
  else
    dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q 'ok installed'
  fi
}

packages=()
command -v make >/dev/null || packages+=(make)
command -v git >/dev/null || packages+=(git)
# The README's commands call the API with curl; tests/e2e/test_readme.py runs them.
command -v curl >/dev/null || packages+=(curl)
# promtool checks the alert rules; it comes with the server, which is not started.
command -v promtool >/dev/null || packages+=(prometheus)
# The portal's browser tests drive Debian's chromium; the font draws Chinese.
[ -x "${LIAISON_CHROMIUM:-/usr/bin/chromium}" ] || packages+=(chromium)
has_chinese_font || packages+=(fonts-wqy-microhei)
# Servers already listening (perhaps elsewhere installed) need no package.
port_open 5432 || command -v pg_ctlcluster >/dev/null || packages+=(postgresql)
port_open 5672 || command -v rabbitmq-server >/dev/null || packages+=(rabbitmq-server)
port_open 6379 || command -v redis-server >/dev/null || packages+=(redis-server)
# The container test builds the images and runs them with podman (docker
# where its daemon answers): runc, netavark's network with aardvark's names,
# mmdebstrap for the base images where no registry is reachable. podman
# reads the project's scripts/containers/containers.conf (CONTAINERS_CONF).
if ! { command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; }; then
  command -v podman >/dev/null || packages+=(podman)
  [ -x /usr/sbin/runc ] || packages+=(runc)
  [ -x /usr/lib/podman/netavark ] || packages+=(netavark)
  [ -x /usr/lib/podman/aardvark-dns ] || packages+=(aardvark-dns)
  # netavark sets up the containers' network with iptables (only recommended
  # by its package, so not always there).
  command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || packages+=(iptables)
  command -v mmdebstrap >/dev/null || packages+=(mmdebstrap)
fi
if [ ${#packages[@]} -gt 0 ]; then
  apt_install "${packages[@]}"
fi

# The version the Makefile installs too; pip needs no root for it.
if ! command -v uv >/dev/null && ! python3 -m uv --version >/dev/null 2>&1; then
  log "installing uv"
  python3 -m pip install --quiet 'uv==0.13.8'
fi

bash scripts/services.sh postgres rabbitmq redis

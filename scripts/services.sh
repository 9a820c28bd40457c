#!/usr/bin/env bash
# Make sure the servers the platform needs are running on this machine:
# start them when they are down, install them from Debian's packages when
# they are missing (needs root). Usage: scripts/services.sh [postgres] [rabbitmq] [redis]
set -euo pipefail

log() { printf '[services] %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 what=$2 tries=${3:-60}
  for _ in $(seq "$tries"); do
    port_open "$port" && return 0
    sleep 1
  done
  log "$what did not open port $port"; return 1
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "$* is missing and installing it needs root: install it, then run this again"; exit 1
  fi
  log "installing $* from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if port_open 5432; then log "PostgreSQL is up"; return; fi
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 PostgreSQL
  # Local trust for the tests' throwaway databases, as on the development machines.
  if ! psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1; then
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
  log "PostgreSQL is up"
}

ensure_rabbitmq() {
  if port_open 5672; then log "RabbitMQ is up"; return; fi
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  rabbitmq-server -detached || true
  wait_port 5672 RabbitMQ 120
  # The port opens a moment before the broker accepts logins.
  for _ in $(seq 30); do
    rabbitmqctl -q await_startup >/dev/null 2>&1 && break
    sleep 1
  done
  log "RabbitMQ is up"
}

ensure_redis() {
  if port_open 6379; then log "Redis is up"; return; fi
  command -v redis-server >/dev/null || apt_install redis-server
  # Only shared counters live there: nothing is kept on disk.
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_port 6379 Redis
  log "Redis is up"
}

for service in "${@:-postgres rabbitmq redis}"; do
  for s in $service; do
    case "$s" in
      postgres) ensure_postgres ;;
      rabbitmq) ensure_rabbitmq ;;
      redis) ensure_redis ;;
      *) log "unknown service $s"; exit 2 ;;
    esac
  done
done

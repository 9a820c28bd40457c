#!/bin/sh
# What the upstream rabbitmq image reads on start, in short: the default
# user from RABBITMQ_DEFAULT_USER/RABBITMQ_DEFAULT_PASS; logs on stdout.
# The configuration is written to /tmp (the root filesystem is read-only).
set -eu
{
  echo "listeners.tcp.default = 5672"
  echo "loopback_users = none"
  echo "default_user = ${RABBITMQ_DEFAULT_USER:-guest}"
  echo "default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}"
} >"$RABBITMQ_CONFIG_FILE"
echo "[]." >"$RABBITMQ_ENABLED_PLUGINS_FILE"
exec rabbitmq-server

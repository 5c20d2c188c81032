#!/usr/bin/env bash
# A private PostgreSQL server for the tracking tests (an MLflow tracking server with a PostgreSQL backend,
# the multi-user case). `start` installs Debian's `postgresql` when it is missing (as root, apt-get), then
# starts a cluster of our own on 127.0.0.1:${ORTGENAI_PG_PORT:-55432}, trust auth for loopback, owned by the
# `postgres` user, in ${ORTGENAI_PG_DATA:-/tmp/ortgenai-postgres-<port>} (outside the checkout, which the
# `postgres` user may not be allowed to enter, e.g. below /root); `stop` stops it. Both are idempotent. `url` prints the server's
# URL (postgresql://postgres@127.0.0.1:PORT); `start` prints it too; `running` exits 0 when it is up.
set -euo pipefail
port=${ORTGENAI_PG_PORT:-55432}
base=${ORTGENAI_PG_DATA:-/tmp/ortgenai-postgres-$port}
data="$base/data"
log="$base/server.log"
url="postgresql://postgres@127.0.0.1:$port"

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$dir" ] && echo "$dir"
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

install() {
  [ -n "$(bindir)" ] && return 0
  [ "$(id -u)" = 0 ] || { echo "postgres.sh: PostgreSQL is not installed; run as root or 'apt-get install postgresql'" >&2; exit 1; }
  echo "postgres.sh: installing postgresql (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

running() {
  "$(bindir)/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null
}

start() {
  install
  local bin
  bin=$(bindir)
  if running; then echo "$url"; return 0; fi
  mkdir -p "$base"
  if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$base"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >&2
  fi
  [ "$(id -u)" = 0 ] && chown -R postgres: "$base"
  as_postgres "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $data -c max_connections=200 -c fsync=off" start >&2
  echo "$url"
}

stop() {
  local bin
  bin=$(bindir) || return 0
  [ -f "$data/postmaster.pid" ] || return 0
  as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >&2 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$url" ;;
  running) [ -n "$(bindir)" ] && running ;;
  *) echo "usage: $0 start|stop|running|url" >&2; exit 2 ;;
esac

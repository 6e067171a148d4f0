#!/usr/bin/env bash
# Start or stop the real servers the integration tests use, on 127.0.0.1 only.
#   scripts/test-servers.sh start [pg|redis|all]  -> prints `export` lines (default: all)
#   scripts/test-servers.sh stop                   -> stops PostgreSQL (as before)
#   scripts/test-servers.sh stop redis|all         -> stops Redis / both
# `start` reports what it started (CUSTOMERS_HUB_TEST_STARTED_PG / _REDIS = 1) so that the
# caller stops only that.
# PostgreSQL 15 (Debian package) runs as the `postgres` user from a throw-away trust-auth data
# directory on its own port, with durability off: test data need not survive a crash.
# Redis (Debian `redis-server`, installed when missing) runs daemonized on 127.0.0.1 only, with
# no persistence (no RDB snapshots, no AOF), its pid file, log and working dir under $STATE.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${CUSTOMERS_HUB_TEST_PG_PORT:-55432}
STATE=${CUSTOMERS_HUB_TEST_STATE:-/tmp/customers-hub-test-servers}
PG_DATA=$STATE/pg
PG_DB=customers_hub_test
REDIS_PORT=${CUSTOMERS_HUB_TEST_REDIS_PORT:-56379}
REDIS_DIR=$STATE/redis

log() { echo "test-servers: $*" >&2; }

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

start_pg() {
  if [ ! -x "$PG_BIN/pg_ctl" ]; then
    log "PostgreSQL 15 not found in $PG_BIN; installing the Debian package"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >&2
  fi
  mkdir -p "$STATE" && chmod 755 "$STATE"
  if pg_ready; then log "PostgreSQL already answering on $PG_PORT"; return; fi
  STARTED_PG=1
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    rm -rf "$PG_DATA" && mkdir -p "$PG_DATA" && chown postgres:postgres "$PG_DATA"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  # A hard-killed server can leave its port busy for a moment: retry the start.
  for attempt in 1 2 3 4 5; do
    if runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 30 \
      -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null; then
      break
    fi
    log "start attempt $attempt failed; retrying"; sleep 1
  done
  pg_ready || { log "PostgreSQL did not start"; cat "$PG_DATA/server.log" >&2; exit 1; }
  (cd / && runuser -u postgres -- "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" | grep -q 1) ||
    (cd / && runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DB")
  log "PostgreSQL on 127.0.0.1:$PG_PORT"
}

stop_pg() {
  if [ -f "$PG_DATA/postmaster.pid" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null || true
  fi
}

# Headless Chromium renders /api/v1/docs in a test (Debian `chromium`). Installed when missing; if
# that fails the test is skipped with its reason in pytest's summary, and the run goes on.
ensure_chromium() {
  if command -v chromium >/dev/null; then return; fi
  log "chromium not found; installing the Debian package (for the offline docs test)"
  if ! { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2; }; then
    log "WARNING: chromium could not be installed; the offline docs test will be skipped"
  fi
}

redis_ready() {
  [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

start_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    log "redis-server not found; installing the Debian package"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
  fi
  mkdir -p "$REDIS_DIR"
  if redis_ready; then log "Redis already answering on $REDIS_PORT"; return; fi
  STARTED_REDIS=1
  # After a hard kill the port can stay busy for a moment: retry the start.
  for attempt in 1 2 3 4 5; do
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" \
      --logfile "$REDIS_DIR/redis.log" >&2 || true
    for _ in $(seq 50); do redis_ready && break; sleep 0.1; done
    redis_ready && break
    log "Redis start attempt $attempt failed; retrying"; sleep 1
  done
  redis_ready || { log "Redis did not start"; cat "$REDIS_DIR/redis.log" >&2; exit 1; }
  log "Redis on 127.0.0.1:$REDIS_PORT"
}

stop_redis() {
  if redis_ready; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
}

STARTED_PG=0
STARTED_REDIS=0
case "${1:-}" in
  start)
    what=${2:-all}
    case "$what" in pg|redis|all) ;; *) echo "usage: $0 start [pg|redis|all]" >&2; exit 2 ;; esac
    # Tell the caller what this call started, so it stops only that.
    if [ "$what" != redis ]; then
      start_pg
      echo "export CUSTOMERS_HUB_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DB"
      echo "export CUSTOMERS_HUB_TEST_STARTED_PG=$STARTED_PG"
    fi
    if [ "$what" = all ]; then ensure_chromium; fi
    if [ "$what" != pg ]; then
      start_redis
      echo "export CUSTOMERS_HUB_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
      echo "export CUSTOMERS_HUB_TEST_STARTED_REDIS=$STARTED_REDIS"
    fi
    ;;
  stop)
    case "${2:-pg}" in
      pg) stop_pg ;;
      redis) stop_redis ;;
      all) stop_pg; stop_redis ;;
      *) echo "usage: $0 stop [pg|redis|all]" >&2; exit 2 ;;
    esac
    ;;
  *)
    echo "usage: $0 start [pg|redis|all] | stop [pg|redis|all]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A private PostgreSQL server for the tests: a new cluster in a temporary folder, on loopback, on a
# free port, run by a non-root user, with a password (so the tests can check it is never shown).
#
#   eval "$(bash tests/postgres.sh start)"   # exports ORM_TEST_POSTGRES_URL and ORM_TEST_POSTGRES_DIR
#   bash tests/postgres.sh stop              # stops it and deletes the folder
#
# Needs Debian's postgresql package (tests/setup.sh installs it).
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  echo "tests/postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi

# initdb and postgres refuse to run as root: use the package's own user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
start)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/orm-postgres.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  password="orm-test-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s\n' "$password" > "$dir/pwfile"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/pwfile"
  as_owner "$bindir/initdb" -D "$dir/data" -U orm --pwfile="$dir/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 > "$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off" \
    start > /dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  echo "export ORM_TEST_POSTGRES_DIR='$dir'"
  echo "export ORM_TEST_POSTGRES_URL='postgresql://orm:$password@127.0.0.1:$port/postgres'"
  ;;
stop)
  dir="${ORM_TEST_POSTGRES_DIR:?ORM_TEST_POSTGRES_DIR is not set (it comes from start)}"
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: bash tests/postgres.sh start|stop" >&2
  exit 2
  ;;
esac

#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine with only Rust and Python:
# the system SQLite (linked dynamically, DESIGN fact 2), PostgreSQL's server (the tests start a
# private cluster of their own, tests/postgres.sh) and a Python virtual environment with the
# Jupyter clients and SQLAlchemy used by the tests, and headless Chromium with playwright-core for
# the browser tests. Safe to run again: it skips what is there.
# `--lesson`: only what the lesson needs (tests/lesson.sh): SQLite's headers and the venv, no
# PostgreSQL server and no browser.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lesson_only=false
[ "${1:-}" = "--lesson" ] && lesson_only=true

need_apt=()
[ -f /usr/include/sqlite3.h ] || need_apt+=(libsqlite3-dev)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
$lesson_only || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
# Headless Chromium for tests/browser (the grader's pages, the lesson in JupyterLab),
# driven by playwright-core; the lesson alone needs neither.
$lesson_only || command -v chromium >/dev/null || need_apt+=(chromium)
$lesson_only || command -v npm >/dev/null || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  # The package would create and start a system-wide cluster; the tests want only their own.
  $sudo_cmd mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" |
    $sudo_cmd tee /etc/postgresql-common/createcluster.d/orm-tests.conf >/dev/null
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

venv="${ORM_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/requirements.txt"

# playwright-core at the version pinned in tests/browser/package.json, in
# tests/browser/node_modules, driving the system's chromium through executablePath (it
# downloads no browser of its own).
if ! $lesson_only; then
  (cd "$root/tests/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

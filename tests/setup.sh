#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine with only Rust and Python:
# the system SQLite (linked dynamically, DESIGN fact 2) and a Python virtual environment with the
# Jupyter clients and SQLAlchemy used by the tests. Safe to run again: it skips what is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

need_apt=()
[ -f /usr/include/sqlite3.h ] || need_apt+=(libsqlite3-dev)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

venv="${ORM_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/requirements.txt"

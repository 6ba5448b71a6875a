#!/bin/sh
# The kernel's end-to-end tests: builds the release binaries, installs the `rust-orm`
# kernelspec for this user, builds orm into the per-user cache (so kernels start warm),
# and runs pytest here. Usage: tests/kernel/run.sh [pytest arguments]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$root/.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r "$root/tests/requirements.txt"
cargo build --release -p orm-kernel --manifest-path "$root/Cargo.toml"
"$root/target/release/orm-kernel" install --user
"$root/target/release/orm-kernel" prepare
cd "$root/tests/kernel"
exec "$venv/bin/python" -m pytest -q "$@"

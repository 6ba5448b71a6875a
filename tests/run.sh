#!/usr/bin/env bash
# The project's whole test suite: formatting, lints, every cargo test (release, so evcxr is built
# once and reused), then the end-to-end tests driven by real Jupyter clients.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
bash tests/setup.sh

# A private PostgreSQL server for the tests of the second engine, unless one is given.
if [ -z "${ORM_TEST_POSTGRES_URL:-}" ]; then
  eval "$(bash tests/postgres.sh start)"
  # The server's log outlives the server (its folder is deleted at stop), for a run to diagnose.
  keep_server_log() {
    cp "$ORM_TEST_POSTGRES_DIR/server.log" "$CARGO_TARGET_DIR/postgres-server.log" 2>/dev/null || true
    bash tests/postgres.sh stop
  }
  trap keep_server_log EXIT
fi
echo "== PostgreSQL for the tests: ${ORM_TEST_POSTGRES_URL%%:*}://…@${ORM_TEST_POSTGRES_URL#*@}"

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo build (release)"
cargo build --release --workspace --all-targets --all-features
echo "== cargo clippy"
cargo clippy --release --workspace --all-targets --all-features -- -D warnings
echo "== cargo doc"
# Every public item of the ORM and its derive, the kernel crates, the grader and its harness
# documented, and every intra-doc link resolving (issue 21); the doctests run with cargo test below.
RUSTDOCFLAGS="-D warnings -D missing_docs -D rustdoc::broken_intra_doc_links" \
    cargo doc --release --no-deps -p orm -p orm-macros -p orm-eval -p orm-kernel -p grader \
    -p orm-grader-harness --all-features
# The grader's tests go last: twice a CI run found the private PostgreSQL server gone after them
# (cause not found yet; its log is kept in $CARGO_TARGET_DIR/postgres-server.log), so every test
# that needs the server runs before them.
echo "== cargo test (all but the grader)"
cargo test --release --workspace --all-features --exclude grader
if [ -f tests/e2e.sh ]; then
  echo "== end-to-end"
  bash tests/e2e.sh
fi
echo "== cargo test (the grader)"
cargo test --release -p grader --all-features
if [ -n "${ORM_TEST_POSTGRES_DIR:-}" ]; then
  server_pid=$(head -n 1 "$ORM_TEST_POSTGRES_DIR/data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    echo "== PostgreSQL server still up after the grader's tests"
  else
    echo "== NOTE: the PostgreSQL server is gone after the grader's tests; the end of its log:"
    tail -n 20 "$ORM_TEST_POSTGRES_DIR/server.log" 2>/dev/null || true
  fi
fi
# Skips happen only on purpose, by name; say so where nobody can miss it.
for opt_out in ORM_TEST_SKIP_POSTGRES ORM_TEST_SKIP_PARITY; do
  if [ "${!opt_out:-}" = 1 ]; then
    echo "== NOTE: $opt_out=1: those tests were skipped on purpose"
  fi
done
echo "== all tests passed"

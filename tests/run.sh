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
  trap 'bash tests/postgres.sh stop' EXIT
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
echo "== cargo test"
cargo test --release --workspace --all-features
if [ -f tests/e2e.sh ]; then
  echo "== end-to-end"
  bash tests/e2e.sh
fi
# Skips happen only on purpose, by name; say so where nobody can miss it.
for opt_out in ORM_TEST_SKIP_POSTGRES ORM_TEST_SKIP_PARITY; do
  if [ "${!opt_out:-}" = 1 ]; then
    echo "== NOTE: $opt_out=1: those tests were skipped on purpose"
  fi
done
echo "== all tests passed"

#!/usr/bin/env bash
# Gradescope runs this once, as root on its Ubuntu base image, when it builds the autograder:
# it installs what the grader needs, builds the grader into $AUTOGRADER_ROOT/bin and builds
# `orm` into the evaluator's cache, so that each submission starts warm.
#
#   AUTOGRADER_ROOT       Gradescope's root (default /autograder)
#   GRADER_SKIP_INSTALL=1 skip apt-get and rustup (the machine has them)
#   GRADER_BIN=PATH       use this grader binary instead of building one
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root="${AUTOGRADER_ROOT:-/autograder}"
# shellcheck source=/dev/null
source "$here/grader.conf"

if [ -z "${GRADER_SKIP_INSTALL:-}" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends \
    build-essential pkg-config libsqlite3-dev curl ca-certificates git
  if ! command -v cargo > /dev/null && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
      | sh -s -- -y --profile minimal --default-toolchain stable
  fi
fi
if [ -f "$HOME/.cargo/env" ]; then
  # shellcheck source=/dev/null
  source "$HOME/.cargo/env"
fi

mkdir -p "$root/bin"
if [ -n "${GRADER_BIN:-}" ]; then
  ln -sf "$GRADER_BIN" "$root/bin/grader"
elif [ -n "$GRADER_GIT" ]; then
  cargo install --locked --root "$root" --git "$GRADER_GIT" ${GRADER_REV:+--rev "$GRADER_REV"} grader
else
  # The evaluator compiles learners' cells against project/orm: the sources stay here.
  cargo install --locked --root "$root" --path "$here/project/grader"
fi
"$root/bin/grader" prepare

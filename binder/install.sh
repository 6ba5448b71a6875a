#!/usr/bin/env bash
# Installs the lesson's kernel into the current Python environment with `orm` prepared, so a
# class server or a Binder link opens the lesson warm. Used by the Dockerfile and by
# repo2docker (binder/postBuild); run it by hand in a clean clone the same way:
#   python3 -m venv .venv && . .venv/bin/activate && bash binder/install.sh
# Needs cargo/rustc (the evaluator compiles cells with them at run time too) and SQLite's
# headers (libsqlite3-dev: SQLite is linked dynamically, DESIGN fact 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
python3 -m pip install -q -r binder/requirements.txt
# ORM_INSTALL_CARGO_ARGS: what to build (default the kernel only); tests/container_recipe.sh
# passes the test suite's build arguments so that CI reuses that build.
# shellcheck disable=SC2086  # several arguments, split on purpose
cargo build --release --locked ${ORM_INSTALL_CARGO_ARGS:--p orm-kernel}
# The binary stays where it is (the kernelspec names it); the kernelspec goes into this
# Python environment, where Jupyter in it looks.
"$target/release/orm-kernel" install --sys-prefix
# Builds orm and its dependencies into the per-user cache ($ORM_EVAL_CACHE_DIR, else
# ~/.cache/orm-kernel): the first kernel starts warm.
"$target/release/orm-kernel" prepare
echo "installed: jupyter lab notebooks/lesson.ipynb"

#!/usr/bin/env bash
# The main job: run the lesson notebook through the kernel (embedded SQLite) and show its outputs.
# `--save` writes the outputs back into notebooks/lesson.ipynb.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
bash tests/setup.sh
cargo build --release --workspace --all-targets --all-features  # the same build as tests/run.sh, so each reuses the other
out="$CARGO_TARGET_DIR/lesson.out.ipynb"
target="$out"
[ "${1:-}" = "--save" ] && target="notebooks/lesson.ipynb"
"$CARGO_TARGET_DIR/release/orm-kernel" run notebooks/lesson.ipynb -o "$target"
python tests/notebooks/show.py "$target"

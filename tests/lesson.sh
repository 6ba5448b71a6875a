#!/usr/bin/env bash
# The main job: run the lesson notebook through the kernel (embedded SQLite) and show its outputs,
# then one summary line (cells run, failures, seconds). Installs only what the lesson needs
# (tests/setup.sh --lesson: no PostgreSQL server, no browser). `--save` writes the outputs back
# into the notebook. Another notebook may be named: `bash tests/lesson.sh [--save]
# notebooks/beyond.ipynb` ("beyond the lesson"). The lesson removes the files it writes in the
# temp folder.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
bash tests/setup.sh --lesson
cargo build --release --workspace --all-targets --all-features  # the same build as tests/run.sh, so each reuses the other
save=false
notebook=notebooks/lesson.ipynb
for arg in "$@"; do
  case "$arg" in
    --save) save=true ;;
    *) notebook=$arg ;;
  esac
done
target="$CARGO_TARGET_DIR/$(basename "$notebook" .ipynb).out.ipynb"
$save && target="$notebook"
start=$SECONDS
# Every cell runs even after a failure, so the summary counts them all; a failure fails the script
# (show.py's exit status). orm-kernel's status 1 is "cells failed"; any other is an error of its own.
status=0
"$CARGO_TARGET_DIR/release/orm-kernel" run --allow-errors "$notebook" -o "$target" || status=$?
[ "$status" = 0 ] || [ "$status" = 1 ] || exit "$status"
python tests/notebooks/show.py "$target" --summary-seconds $((SECONDS - start))

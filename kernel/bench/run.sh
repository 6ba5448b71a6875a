#!/usr/bin/env bash
# Measures the kernel against evcxr_jupyter 0.22 on the lesson notebook and writes the "## Kernel"
# section of BENCHMARKS.md (the rest of the file is kept). Run by hand: it needs evcxr_jupyter,
# which the project does not build or commit:
#
#   cargo install evcxr_jupyter --version 0.22.0 --locked --root /tmp/evcxr-jupyter
#   EVCXR_JUPYTER=/tmp/evcxr-jupyter/bin/evcxr_jupyter bash kernel/bench/run.sh
#
# Four runs, one after another: orm-kernel cold (empty evaluator cache) and warm (the same cache
# again), evcxr_jupyter cold (empty EVCXR_TMPDIR) and warm (the same folder again). About 20
# minutes on 2 shared cores, a third of it the two cold builds of orm's dependencies.
set -euo pipefail
source "$(dirname "$0")/../../tests/env.sh"
cd "$root"
evcxr_jupyter="${EVCXR_JUPYTER:-/tmp/evcxr-jupyter/bin/evcxr_jupyter}"
[ -x "$evcxr_jupyter" ] || { echo "no evcxr_jupyter at $evcxr_jupyter: set EVCXR_JUPYTER" >&2; exit 1; }
python="$ORM_VENV/bin/python"
[ -x "$python" ] || { echo "no Python venv at $ORM_VENV: run bash tests/setup.sh" >&2; exit 1; }
notebook="$root/notebooks/lesson.ipynb"

echo "== building orm-kernel (release)"
cargo build --release -p orm-kernel
kernel="$CARGO_TARGET_DIR/release/orm-kernel"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/cwd" "$work/orm-cache" "$work/evcxr-tmp" "$work/evcxr-config" "$work/jupyter/kernels/evcxr-bench"

# orm-kernel's kernelspec where tests/e2e.sh puts it; evcxr_jupyter's (its --install ignores
# JUPYTER_DATA_DIR) in a folder of this run, on JUPYTER_PATH.
export JUPYTER_DATA_DIR="$CARGO_TARGET_DIR/jupyter"
export JUPYTER_PATH="$work/jupyter"
"$kernel" install --user > /dev/null
cat > "$work/jupyter/kernels/evcxr-bench/kernel.json" <<EOF
{"argv": ["$evcxr_jupyter", "--control_file", "{connection_file}"],
 "display_name": "Rust (evcxr_jupyter, bench)", "language": "rust", "interrupt_mode": "message"}
EOF
# KERNEL_BENCH_ORM: another copy of orm (e.g. `git archive HEAD` while orm/ is being edited).
orm_path=$(cd "${KERNEL_BENCH_ORM:-$root/orm}" && pwd)
printf ':dep orm = { path = "%s" }\nuse orm::prelude::*;\n' "$orm_path" > "$work/evcxr-setup.txt"

# Both kernels: their caches in this run's folder, no user configuration of evcxr.
export ORM_EVAL_CACHE_DIR="$work/orm-cache" ORM_EVAL_ORM_PATH="$orm_path"
export EVCXR_TMPDIR="$work/evcxr-tmp" EVCXR_CONFIG_DIR="$work/evcxr-config"

cut -d' ' -f1-3 /proc/loadavg > "$work/load.txt"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(uname -sr)" > "$work/machine.txt"
drive() {
  local name=$1
  shift
  echo "== $name"
  "$python" kernel/bench/drive.py --notebook "$notebook" --cwd "$work/cwd" \
    --out "$work/$name.json" --stderr "$work/$name.stderr" "$@"
  grep -h 'evaluator ready' "$work/$name.stderr" || true
}
drive orm-cold --kernel rust-orm
drive orm-warm --kernel rust-orm
drive evcxr-cold --kernel evcxr-bench --setup "$(cat "$work/evcxr-setup.txt")"
drive evcxr-warm --kernel evcxr-bench --setup "$(cat "$work/evcxr-setup.txt")"
cut -d' ' -f1-3 /proc/loadavg > "$work/load-end.txt"
for name in orm-cold orm-warm; do
  grep -h 'evaluator ready' "$work/$name.stderr" | sed "s/^/$name: /" >> "$work/start-lines.txt" || true
done

"$python" kernel/bench/report.py "$work" "bash kernel/bench/run.sh"
echo "== wrote the Kernel section of BENCHMARKS.md"
if [ -n "${KERNEL_BENCH_KEEP:-}" ]; then
  mkdir -p "$KERNEL_BENCH_KEEP"
  cp "$work"/*.json "$work"/*.txt "$work"/*.stderr "$KERNEL_BENCH_KEEP"/
fi

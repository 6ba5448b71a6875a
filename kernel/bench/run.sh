#!/usr/bin/env bash
# Measures the kernel against evcxr_jupyter 0.22 on the lesson notebook and writes the "## Kernel"
# section of BENCHMARKS.md (the rest of the file is kept). Run by hand: it needs evcxr_jupyter,
# which the project does not build or commit:
#
#   cargo install evcxr_jupyter --version 0.22.0 --locked --root /tmp/evcxr-jupyter
#   EVCXR_JUPYTER=/tmp/evcxr-jupyter/bin/evcxr_jupyter bash kernel/bench/run.sh
#
# Five runs, one after another, each ending with a restart of its kernel (the first result after
# it timed): orm-kernel cold (empty evaluator cache), warm (the same cache again) and warm served
# by a standby (`orm-kernel standby`, started before and measured idle: memory, CPU), then
# evcxr_jupyter cold (empty EVCXR_TMPDIR) and warm (the same folder again). About 20 minutes on
# 2 shared cores, a third of it the two cold builds of orm's dependencies.
set -euo pipefail
source "$(dirname "$0")/../../tests/env.sh"
cd "$root"
evcxr_jupyter="${EVCXR_JUPYTER:-/tmp/evcxr-jupyter/bin/evcxr_jupyter}"
[ -x "$evcxr_jupyter" ] || { echo "no evcxr_jupyter at $evcxr_jupyter: set EVCXR_JUPYTER" >&2; exit 1; }
python="$ORM_VENV/bin/python"
[ -x "$python" ] || { echo "no Python venv at $ORM_VENV: run bash tests/setup.sh" >&2; exit 1; }
notebook="$root/notebooks/lesson.ipynb"

if [ -n "${ORM_KERNEL_BIN:-}" ]; then
  # A kernel binary built before (e.g. a copy, while the sources are being edited).
  kernel=$ORM_KERNEL_BIN
else
  echo "== building orm-kernel (release)"
  # The whole workspace, as the README builds it: `-p` alone would resolve features for this
  # package only and rebuild shared dependencies (evcxr's among them) a second time.
  cargo build --release --workspace
  kernel="$CARGO_TARGET_DIR/release/orm-kernel"
fi

work=$(mktemp -d)
# Standbys of this run only: a socket in its folder (a user's own standby never serves it).
export ORM_KERNEL_STANDBY_SOCKET="$work/standby.sock"
stop_standbys() {
  # Every standby this run started logged "standby PID waiting on …"; ask, then end those left.
  "$kernel" standby --stop > /dev/null 2>&1 || true
  sleep 1
  local pid
  for pid in $(cat "$work"/standby*.log 2> /dev/null | sed -n 's/^orm-kernel: standby \([0-9]*\) waiting on.*/\1/p'); do
    kill "$pid" 2> /dev/null || true
  done
}
keep_results() {
  # KERNEL_BENCH_KEEP=DIR: keep the raw results and logs, also of a failed run (report.py can
  # be run again on DIR).
  if [ -n "${KERNEL_BENCH_KEEP:-}" ]; then
    mkdir -p "$KERNEL_BENCH_KEEP"
    cp "$work"/*.json "$work"/*.txt "$work"/*.stderr "$work"/*.log "$KERNEL_BENCH_KEEP"/ 2> /dev/null || true
  fi
}
trap 'stop_standbys; keep_results; rm -rf "$work"' EXIT
mkdir -p "$work/cwd" "$work/orm-cache" "$work/evcxr-tmp" "$work/evcxr-config" "$work/jupyter/kernels/evcxr-bench"

# Both kernelspecs in folders of this run (the tests' own kernelspec is left alone):
# orm-kernel's in JUPYTER_DATA_DIR, evcxr_jupyter's written by hand on JUPYTER_PATH.
export JUPYTER_DATA_DIR="$work/jupyter-data"
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
    --out "$work/$name.json" --stderr "$work/$name.stderr" --restart "$@"
  grep -h 'evaluator ready' "$work/$name.stderr" || true
}
drive orm-cold --kernel rust-orm
drive orm-warm --kernel rust-orm

echo "== a standby (warm cache), measured idle, then serving the lesson and the restart"
"$kernel" standby 2> "$work/standby-first.log" < /dev/null &
standby_pid=$!
for _ in $(seq 600); do
  grep -q 'evaluator ready' "$work/standby-first.log" && break
  kill -0 "$standby_pid" 2> /dev/null || { cat "$work/standby-first.log" >&2; exit 1; }
  sleep 1
done
grep -h 'evaluator ready' "$work/standby-first.log" | sed 's/^/standby: /' > "$work/standby-start.txt"
sleep 5  # let its start settle before measuring it idle
"$python" kernel/bench/standby_cost.py "$standby_pid" 30 "$work/standby-cost.json"
drive orm-standby --kernel rust-orm
grep -h 'served by the standby' "$work/orm-standby.stderr" || { echo "the standby did not serve the kernel" >&2; exit 1; }
# The restarted kernel's standby starts the next one when it ends: let it bind, then stop all.
sleep 5
stop_standbys
drive evcxr-cold --kernel evcxr-bench --setup "$(cat "$work/evcxr-setup.txt")"
drive evcxr-warm --kernel evcxr-bench --setup "$(cat "$work/evcxr-setup.txt")"
cut -d' ' -f1-3 /proc/loadavg > "$work/load-end.txt"
for name in orm-cold orm-warm orm-standby; do
  grep -h 'evaluator ready' "$work/$name.stderr" | sed "s/^/$name: /" >> "$work/start-lines.txt" || true
done

"$python" kernel/bench/report.py "$work" "bash kernel/bench/run.sh"
echo "== wrote the Kernel section of BENCHMARKS.md"

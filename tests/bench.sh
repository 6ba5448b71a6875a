#!/usr/bin/env bash
# Regenerates the head of BENCHMARKS.md: DESIGN.md's standard workload through `orm`, hand-written rusqlite (the
# floor) and SQLAlchemy 2.x, with the peak memory of each process and the memory check of "load all".
#
#   bash tests/bench.sh                     # N = 20,000, about 3 minutes
#   WORKLOAD_N=5000 WORKLOAD_RUNS=1 SQLALCHEMY_RUNS=1 bash tests/bench.sh     # a quick look
#
# WORKLOAD_RUNS (default 9) runs of orm and rusqlite, SQLALCHEMY_RUNS (default 5) of SQLAlchemy,
# which takes far longer; each figure is the median of its runs.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
export WORKLOAD_N="${WORKLOAD_N:-20000}" WORKLOAD_RUNS="${WORKLOAD_RUNS:-9}"
SQLALCHEMY_RUNS="${SQLALCHEMY_RUNS:-5}"
python="$ORM_VENV/bin/python"
[ -x "$python" ] || { echo "no Python venv at $ORM_VENV: run bash tests/setup.sh" >&2; exit 1; }

echo "== building the workload (release)"
bin=$(bash tests/build_workload.sh)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cut -d' ' -f1-3 /proc/loadavg > "$out/load.txt"

echo "== orm and rusqlite, N=$WORKLOAD_N, $WORKLOAD_RUNS runs (wall clock, then thread CPU time)"
"$bin" --json > "$out/timings.json"
WORKLOAD_CLOCK=cpu "$bin" --json > "$out/timings-cpu.json"
echo "== peak memory of each process"
for mode in orm rusqlite; do "$bin" --only "$mode" --runs 1 > "$out/$mode.json"; done
for mode in load-orm load-rusqlite empty; do "$bin" --only "$mode" > "$out/$mode.json"; done
echo "== SQLAlchemy"
"$python" orm/benches/workload_sqlalchemy.py --n "$WORKLOAD_N" --runs "$SQLALCHEMY_RUNS" > "$out/sqlalchemy.json"
for mode in load empty; do
  "$python" orm/benches/workload_sqlalchemy.py --n "$WORKLOAD_N" --only "$mode" > "$out/sqlalchemy-$mode.json"
done

command="bash tests/bench.sh"
[ "$WORKLOAD_N-$WORKLOAD_RUNS-$SQLALCHEMY_RUNS" = 20000-9-5 ] ||
  command="WORKLOAD_N=$WORKLOAD_N WORKLOAD_RUNS=$WORKLOAD_RUNS SQLALCHEMY_RUNS=$SQLALCHEMY_RUNS $command"
"$python" orm/benches/report.py "$out" "$command" > "$out/BENCHMARKS.md"
# The sections the other scripts write (grader/bench.sh, kernel/bench/run.sh,
# tests/bench_postgres.sh, tests/bench_threads.sh, tests/bench_computed.sh) are carried over as they are.
"$python" - "$out/BENCHMARKS.md" <<'EOF'
import os, re, sys
sys.path.insert(0, "tests")
from bench_section import put_section
old = open("BENCHMARKS.md").read() if os.path.exists("BENCHMARKS.md") else ""
for title in ("## Grader", "## Kernel", "## PostgreSQL", "## Threads", "## Computed columns"):
    match = re.search(rf"^{title}\n.*?(?=^## |\Z)", old, flags=re.S | re.M)
    if match:
        put_section(match.group(0), sys.argv[1])
EOF
cp "$out/BENCHMARKS.md" BENCHMARKS.md
echo "== wrote BENCHMARKS.md"

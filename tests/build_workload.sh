#!/usr/bin/env bash
# Builds the standard workload (orm/benches/workload.rs, release) and prints its executable's
# path, for the benchmark scripts. Extra arguments go to cargo (`--features postgres`);
# BENCH=name builds another bench of orm/benches instead (`BENCH=computed`).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
name="${BENCH:-workload}"
bin=$(cargo bench -p orm "$@" --bench "$name" --no-run --message-format=json 2>/dev/null |
  "$ORM_VENV/bin/python" -c 'import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == sys.argv[1] and msg.get("executable"):
        print(msg["executable"])' "$name")
[ -x "$bin" ] || { echo "the $name binary was not built" >&2; exit 1; }
echo "$bin"

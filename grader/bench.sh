#!/usr/bin/env bash
# Measures the grader's two engines side by side and writes the "## Grader" section of
# BENCHMARKS.md (the rest of the file, written by tests/bench.sh and the others, is kept):
#   - one submission (the solution notebook, every exercise) graded cold (an empty cache of its
#     own for each engine: orm and its dependencies are built) and warm (the prepared build
#     reused);
#   - a batch of BATCH_N (default 20) submissions of a small assignment
#     (grader/tests/fixtures/small_assignment.ipynb), with 1 and 2 workers, and in 2 and 4
#     shards run side by side (then merged), with a projection for 5,000 submissions;
# each step once per engine (`--engine program`, then `--engine evcxr`), one after the other,
# so that both see the same machine and the ratios evcxr / program are from the same run.
#
#   bash grader/bench.sh                               # about 30 minutes on 2 cores
#   BENCH_ENGINES=program bash grader/bench.sh         # the program engine only: a few minutes
#   BATCH_N=6 bash grader/bench.sh                     # a smaller batch
#   BENCH_OUT=/tmp/bench.md bash grader/bench.sh       # write the section elsewhere
#
# Environment:
#   BENCH_ENGINES  the engines to measure, in this order: `program evcxr` (default), `program`
#                  or `evcxr` (spaces or commas). The ratios need both.
#   BATCH_N        submissions in the batch (default 20).
#   BENCH_COLD     1 (default): measure the cold run in a fresh cache per engine. 0: skip it
#                  (for a quick check of the evcxr rows): the caches are the user's
#                  (ORM_EVAL_CACHE_DIR or orm-eval's default), readied first by an untimed
#                  `grader prepare`, and the table has no cold rows.
#   BENCH_OUT      the markdown file whose "## Grader" section is written (default BENCHMARKS.md
#                  of this clone; a relative path is taken from the current folder; a missing
#                  file is made with the section alone).
set -euo pipefail
out="${BENCH_OUT:-}"
[[ -n "$out" ]] && out=$(realpath -m -- "$out")
source "$(dirname "$0")/../tests/env.sh"
cd "$root"
out="${out:-$root/BENCHMARKS.md}"
BATCH_N="${BATCH_N:-20}"
BENCH_COLD="${BENCH_COLD:-1}"
engines_list="${BENCH_ENGINES:-program evcxr}"
read -r -a engines <<< "${engines_list//,/ }"
[[ ${#engines[@]} -gt 0 ]] || { echo "BENCH_ENGINES names no engine" >&2; exit 2; }
for e in "${engines[@]}"; do
  [[ "$e" == program || "$e" == evcxr ]] || { echo "unknown engine in BENCH_ENGINES: $e" >&2; exit 2; }
done
[[ "$BENCH_COLD" == 0 || "$BENCH_COLD" == 1 ]] || { echo "BENCH_COLD is 0 or 1" >&2; exit 2; }

echo "== building the grader (release)"
# The whole workspace, as the README builds it: `-p` alone would resolve features for this
# package only and rebuild shared dependencies a second time.
cargo build --release --workspace
bin="$CARGO_TARGET_DIR/release/grader"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)

# Each engine its own fresh cache, so that its first run is cold whatever the user's cache and
# the other engine's runs hold. With BENCH_COLD=0 the user's cache is used as it is.
use_engine() {
  if [[ "$BENCH_COLD" == 1 ]]; then
    export ORM_EVAL_CACHE_DIR="$work/cache-$1"
  fi
}

# Wall-clock, user and system seconds of a command, into $work/<name>.time.
timed() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$work/$name.time" "$@"
}

solution=grader/assignment/solution.ipynb
if [[ "$BENCH_COLD" == 1 ]]; then
  for e in "${engines[@]}"; do
    use_engine "$e"
    echo "== one submission, cold, --engine $e (orm built into an empty cache)"
    timed "$e-cold" "$bin" run "$solution" --engine "$e" --quiet --json "$work/$e-cold.json" > /dev/null
  done
else
  echo "== readying the user's cache (untimed: grader prepare)"
  "$bin" prepare
fi
for e in "${engines[@]}"; do
  use_engine "$e"
  echo "== the same submission, warm, --engine $e"
  timed "$e-warm" "$bin" run "$solution" --engine "$e" --quiet --json "$work/$e-warm.json" > /dev/null
done

echo "== $BATCH_N submissions of a small assignment"
small=grader/tests/fixtures/small_assignment.ipynb
python3 - "$work" "$BATCH_N" "$small" <<'EOF'
import json, os, sys
work, n, small = sys.argv[1], int(sys.argv[2]), sys.argv[3]
assignment = json.load(open(small))
def grader(cell):
    return cell.get("metadata", {}).get("grader", {})
def unanswered(src):
    start, end = src.index("    // BEGIN"), src.index("// END SOLUTION") + len("// END SOLUTION")
    return src[:start] + "    todo!()" + src[end:]
os.makedirs(os.path.join(work, "batch"))
for i in range(n):
    cells = []
    for cell in assignment["cells"]:
        g = grader(cell)
        if g.get("kind") == "tests":
            continue
        cell = dict(cell)
        # Some learners leave an answer out.
        if g.get("kind") == "solution" and (i + (g["exercise"] == "ex2")) % 3 == 2:
            cell["source"] = unanswered(cell["source"])
        cells.append(cell)
    sub = dict(assignment, cells=cells)
    json.dump(sub, open(os.path.join(work, "batch", f"learner{i:02}.ipynb"), "w"), indent=1)
EOF
for jobs in 1 2; do
  for e in "${engines[@]}"; do
    use_engine "$e"
    echo "== $BATCH_N submissions, $jobs worker(s), --engine $e"
    # The 1-worker run keeps each submission's JSON report (which engine graded it, its times).
    reports=()
    [[ $jobs == 1 ]] && reports=(--results-dir "$work/$e-reports")
    timed "$e-jobs$jobs" "$bin" batch "$work/batch" --assignment "$small" --engine "$e" \
      --jobs "$jobs" --csv "$work/$e-jobs$jobs.csv" "${reports[@]}" --quiet
  done
done
for e in "${engines[@]}"; do
  cmp -s "$work/$e-jobs1.csv" "$work/$e-jobs2.csv" || { echo "$e: the two gradebooks differ" >&2; exit 1; }
done

# Shards as a cluster runs them: N grader processes at once (one worker each), then merge.
# One shard is the 1-worker batch above.
shards() {
  local n=$1 engine=$2 i pids=()
  for ((i = 0; i < n; i++)); do
    "$bin" batch "$work/batch" --assignment "$small" --engine "$engine" --jobs 1 --quiet \
      --shard "$i/$n" --csv "$work/$engine-shards$n/part-$i.csv" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
}
export bin work small
export -f shards
for n in 2 4; do
  for e in "${engines[@]}"; do
    use_engine "$e"
    echo "== $BATCH_N submissions in $n shards side by side, --engine $e"
    timed "$e-shards$n" bash -c "shards $n $e"
    "$bin" merge "$work/$e-shards$n"/part-*.csv -o "$work/$e-shards$n.csv"
    cmp -s "$work/$e-jobs1.csv" "$work/$e-shards$n.csv" || { echo "$e: the merged gradebook differs" >&2; exit 1; }
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$work" "$BATCH_N" "$load" "$load_end" "$BENCH_COLD" "$out" "${engines[@]}" <<'EOF'
import csv, glob, json, re, sys, textwrap
work, n, load, load_end, cold_run, out, *engines = sys.argv[1:]
n, cold_run = int(n), cold_run == "1"
both = engines == ["program", "evcxr"] or engines == ["evcxr", "program"]

def measure(name):
    wall, user, system = map(float, open(f"{work}/{name}.time").read().split()[-3:])
    return wall, user + system

def s(x):
    """Seconds (or any positive figure) with as many decimals as a small value needs."""
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"

def times(x):
    return f"{x:.1f}x" if x >= 10 else f"{x:.2f}x"

def nobreak(text):
    return text.replace(" ", "\0")

def fill(text, **indents):
    """Wraps a paragraph at 96 columns; a figure and its unit stay on one line."""
    text = re.sub(r"(\d) (s\b|per minute\b)", "\\1\0\\2", text)
    return textwrap.fill(text, 96, break_on_hyphens=False, break_long_words=False,
                         **indents).replace("\0", " ")

def plural(k, word):
    return f"{k} {word}" if k == 1 else f"{k} {word}s"

m, reports, per_sub, graded_by, rates, best, full_rate, small_each = {}, {}, {}, {}, {}, {}, {}, {}
for e in engines:
    names = (["cold"] if cold_run else []) + ["warm", "jobs1", "jobs2", "shards2", "shards4"]
    m[e] = {k: measure(f"{e}-{k}") for k in names}
    m[e]["shards1"] = m[e]["jobs1"]
    reports[e] = {k: json.load(open(f"{work}/{e}-{k}.json")) for k in names if k in ("cold", "warm")}
    # The small submissions' own reports (1-worker batch): their mean times, and which engine
    # graded them (the program engine hands what it cannot compile to the evcxr engine).
    subs = [json.load(open(p)) for p in sorted(glob.glob(f"{work}/{e}-reports/*.json"))]
    keys = ["start_seconds", "compile_seconds", "cells_seconds", "tests_seconds", "total_seconds"]
    per_sub[e] = {k: sum(r["timings"][k] for r in subs) / max(len(subs), 1) for k in keys}
    graded_by[e] = sum(r["engine"] == e for r in subs), len(subs)
    rates[e] = {k: n / m[e][f"shards{k}"][0] * 60 for k in (1, 2, 4)}
    best[e] = max(rates[e], key=rates[e].get)
    small_each[e] = m[e]["jobs1"][0] / n  # wall seconds per small submission, one worker
    # The lesson's full assignment: the warm single-submission time instead of a small one's.
    full_rate[e] = rates[e][best[e]] * small_each[e] / m[e]["warm"][0]

# Where the two engines' gradebooks of the same batch agree.
agreement = ""
if both:
    rows = {e: list(csv.reader(open(f"{work}/{e}-jobs1.csv"))) for e in engines}
    differing = [a[0] for a, b in zip(rows["program"][1:], rows["evcxr"][1:]) if a != b]
    if rows["program"][0] != rows["evcxr"][0] or len(rows["program"]) != len(rows["evcxr"]):
        agreement = " The two engines' gradebooks do not have the same rows."
    elif differing:
        agreement = (f" The two engines' gradebooks differ on {len(differing)} of {n} "
                     f"submissions ({', '.join(differing[:5])}{', …' if len(differing) > 5 else ''}).")
    else:
        agreement = " The two engines' gradebooks are identical."
    if agreement != " The two engines' gradebooks are identical.":
        print(f"warning:{agreement}", file=sys.stderr)

what = {
    "cold": "one submission, cold (an empty cache: `orm` and its dependencies built)",
    "warm": "one submission, warm (the prepared build reused)",
    "jobs1": f"batch of {n} small submissions, 1 worker",
    "jobs2": f"batch of {n} small submissions, 2 workers",
}
def within(e, k):
    wall = m[e][k][0]
    if k == "cold":
        return f"{times(wall / m[e]['warm'][0])} warm"
    if k == "jobs2":
        speed = m[e]["jobs1"][0] / wall
        return f"{times(speed)} as fast" if speed >= 1 else f"{times(1 / speed)} as slow"
    return "1.00"
header = "| what | engine | wall s | CPU s | ratio within the engine (wall) |"
rule = "| --- | --- | ---: | ---: | ---: |"
if both:
    header += " evcxr / program (wall) | evcxr / program (CPU) |"
    rule += " ---: | ---: |"
lines = [header, rule]
for k in what:
    if k not in m[engines[0]]:
        continue
    for e in engines:
        wall, cpu = m[e][k]
        line = f"| {what[k]} | {e} | {s(wall)} | {s(cpu)} | {within(e, k)} |"
        if both:
            if e == "evcxr":
                line += (f" {times(wall / m['program'][k][0])} |"
                         f" {times(cpu / m['program'][k][1])} |")
            else:
                line += " | |"
        lines.append(line)
main_table = "\n".join(lines)

notes = []
solution = reports[engines[0]]["warm"]
notes.append(
    f"The submission is the solution notebook: {len(solution['cells'])} code cells of the "
    f"learner's, then {len(solution['tests'])} hidden tests.")
if "program" in engines:
    t = reports["program"]["warm"]["timings"]
    other = t["total_seconds"] - t["start_seconds"] - t["compile_seconds"] - t["cells_seconds"] - t["tests_seconds"]
    run = (f"running it {s(t['cells_seconds'])} s (the cells, then each test in a forked child: "
           f"one process, timed as one)" if t["tests_seconds"] == 0 else
           f"the cells {s(t['cells_seconds'])} s, the tests {s(t['tests_seconds'])} s")
    cold = ""
    if cold_run:
        cold = (f" Cold, finding the libraries meant building them: "
                f"{s(reports['program']['cold']['timings']['start_seconds'])} s.")
    notes.append(
        f"The program engine's warm run, from its JSON report (`timings`): finding the prepared "
        f"`orm` and harness libraries {s(t['start_seconds'])} s, compiling the cells and the "
        f"tests as one program {s(t['compile_seconds'])} s ({plural(t['compile_rounds'], 'round')} "
        f"of rustc), {run}, the rest {s(max(other, 0))} s; "
        f"{s(t['total_seconds'])} s in all.{cold}")
    if reports["program"]["warm"]["engine"] != "program":
        notes.append("The program engine could not build the solution notebook: its rows are "
                     "the evcxr engine's (the fallback).")
        print(f"warning: {notes[-1]}", file=sys.stderr)
if "evcxr" in engines:
    t = reports["evcxr"]["warm"]["timings"]
    cold = ""
    if cold_run:
        cold = f" (cold: {s(reports['evcxr']['cold']['timings']['start_seconds'])} s)"
    notes.append(
        f"The evcxr engine's warm run: evaluator start {s(t['start_seconds'])} s{cold}, the "
        f"learner's cells {s(t['cells_seconds'])} s, the tests {s(t['tests_seconds'])} s, each "
        f"cell and test compiled by rustc as its own evaluation.")
batch = []
for e in engines:
    p = per_sub[e]
    wall, cpu = m[e]["jobs1"]
    wall2, cpu2 = m[e]["jobs2"]
    parts = (f"start {s(p['start_seconds'])} s, compile {s(p['compile_seconds'])} s, "
             f"run {s(p['cells_seconds'])} s" if e == "program" else
             f"evaluator start {s(p['start_seconds'])} s, cells {s(p['cells_seconds'])} s, "
             f"tests {s(p['tests_seconds'])} s")
    fallback = ""
    if e == "program" and graded_by[e][0] != graded_by[e][1]:
        fallback = (f"; only {graded_by[e][0]} of {graded_by[e][1]} were graded by the program "
                    f"engine, the others fell back to the evcxr engine")
        print(f"warning: {fallback[2:]}", file=sys.stderr)
    batch.append(
        f"{e}: {s(wall / n)} s per submission with one worker, {s(p['total_seconds'])} s of "
        f"it grading ({parts}) and {s(max(wall / n - p['total_seconds'], 0))} s around it (the "
        f"worker, the files){fallback}; CPU / wall: {cpu / wall:.2f} with 1 worker, "
        f"{cpu2 / wall2:.2f} with 2.")
notes.append(
    f"The batch grades {n} notebooks of a small assignment (one model, two exercises, 3 hidden "
    f"tests; every third answer left out). A second worker can only use what the first leaves "
    f"of the 2 cores.{agreement} Per submission, from the 1-worker batch's own reports:")
def bullet(text, indent=""):
    return fill(text, initial_indent=indent + "- ", subsequent_indent=indent + "  ")
notes_text = "\n".join([bullet(x) for x in notes] + [bullet(x, "  ") for x in batch])

header = "| shards | engine | wall s | submissions per minute |"
rule = "| ---: | --- | ---: | ---: |"
if both:
    header += " evcxr / program (wall) |"
    rule += " ---: |"
lines = [header, rule]
for k in (1, 2, 4):
    for e in engines:
        wall = m[e][f"shards{k}"][0]
        line = f"| {k} | {e} | {s(wall)} | {s(rates[e][k])} |"
        if both:
            line += f" {times(wall / m['program'][f'shards{k}'][0])} |" if e == "evcxr" else " |"
        lines.append(line)
shard_table = "\n".join(lines)

def hours(per_minute, machines, total=5000):
    return total / (per_minute * machines) / 60
header = "| K machines |" + "".join(f" {e}: small assignment, hours | {e}: full assignment, hours |" for e in engines)
rule = "| ---: |" + " ---: | ---: |" * len(engines)
lines = [header, rule]
for k in (1, 10, 50):
    lines.append(f"| {k} |" + "".join(
        f" {s(hours(rates[e][best[e]], k))} | {s(hours(full_rate[e], k))} |" for e in engines))
projection_table = "\n".join(lines)
projection_notes = "\n".join(bullet(
    f"{e}: {plural(best[e], 'shard')} at {s(rates[e][best[e]])} small submissions per minute; the full "
    f"assignment at {s(full_rate[e])} per minute (the warm single-submission time, "
    f"{s(m[e]['warm'][0])} s, against {s(small_each[e])} s).") for e in engines)

scope = []
if not both:
    scope.append(f"only the {engines[0]} engine (BENCH_ENGINES={engines[0]})")
if not cold_run:
    scope.append("no cold run (BENCH_COLD=0: the caches were readied by `grader prepare`)")
scope = f" This run: {'; '.join(scope)}." if scope else ""
ratio = (" The engines ran one after the other at each step "
         f"({engines[0]}, then {engines[-1]}), so the ratios evcxr / program (above 1: the "
         "program engine is faster) are from the same minutes of this shared machine."
         if both else "")
intro = fill(
    "Generated by `bash grader/bench.sh` (do not edit by hand). Seconds of the release `grader` "
    f"binary on this machine (2 cores; load average {nobreak(load)} when the run started, {nobreak(load_end)} when "
    "it ended: the machine is shared), for its two engines: `--engine program` (the submission "
    "and the hidden tests compiled as one program against prepared libraries) and `--engine "
    "evcxr` (every cell and test evaluated by evcxr, as the kernel does). CPU is user + system "
    "time of the grader and everything it started (cargo, rustc, the evaluation processes). Cold "
    "is each engine's first run in an empty cache of its own; warm is the same again."
    f"{ratio}{scope}")
section = f"""## Grader

{intro}

{main_table}

{notes_text}

### Sharded grading (`grader batch --shard I/N`, then `grader merge`)

The same {n} small submissions split into N shards, the N shard processes run side by side on
this machine (one worker each), as a cluster's tasks would share one node; each merged
gradebook is checked to be byte-identical to the unsharded one of the same engine.

{shard_table}

Projected hours for 5,000 submissions on a cluster of K machines like this one, each running the
engine's fastest shard count above (machines assumed independent: the shared folder is not the
bottleneck). For the lesson's full assignment the rate is scaled by the warm single-submission
time:

{projection_notes}

{projection_table}
"""
sys.path.insert(0, "tests")
from bench_section import put_section
put_section(section, out)
print(section)
EOF
echo "== wrote the Grader section of $out"

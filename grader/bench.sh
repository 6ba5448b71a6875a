#!/usr/bin/env bash
# Measures the grader and writes the "## Grader" section of BENCHMARKS.md (the rest of the file,
# written by tests/bench.sh, is kept):
#   - one submission (the solution notebook, every exercise) graded cold (an empty evaluator
#     cache: orm and its dependencies are built) and warm (the prepared build reused);
#   - a batch of BATCH_N (default 20) submissions of a small assignment, with 1 and 2 workers.
#
#   bash grader/bench.sh              # about 15 minutes on 2 cores
#   BATCH_N=6 bash grader/bench.sh    # a quick look
set -euo pipefail
source "$(dirname "$0")/../tests/env.sh"
cd "$root"
BATCH_N="${BATCH_N:-20}"

echo "== building the grader (release)"
cargo build --release -p grader
bin="$CARGO_TARGET_DIR/release/grader"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)

# A fresh cache, so the first run is cold whatever the user's cache holds.
export ORM_EVAL_CACHE_DIR="$work/cache"

# Wall-clock, user and system seconds of a command, into $work/<name>.time.
timed() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$work/$name.time" "$@"
}

echo "== one submission, cold (orm built into an empty cache)"
timed cold "$bin" run grader/assignment/solution.ipynb --quiet --json "$work/cold.json" > /dev/null
echo "== the same submission, warm"
timed warm "$bin" run grader/assignment/solution.ipynb --quiet --json "$work/warm.json" > /dev/null

echo "== $BATCH_N submissions of a small assignment"
python3 - "$work" "$BATCH_N" <<'EOF'
import json, os, sys
work, n = sys.argv[1], int(sys.argv[2])
def cell(src, kind=None, ex=None):
    md = {"grader": {"kind": kind, "exercise": ex}} if kind else {}
    return {"cell_type": "code", "metadata": md, "source": src, "outputs": [], "execution_count": None}
setup = """#[derive(Model, Debug, Clone, Default)]
#[orm(table = "items")]
pub struct Item {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub price: f64,
}

pub fn shop() -> orm::Result<(Engine, Session)> {
    let engine = create_engine("sqlite:///:memory:")?;
    MetaData::new().add::<Item>().create_all(&engine)?;
    let session = Session::new(&engine);
    for (name, price) in [("pear", 2.0), ("apple", 1.0), ("fig", 3.0)] {
        session.add(Item { name: name.into(), price, ..Default::default() });
    }
    session.commit()?;
    Ok((engine, session))
}"""
answers = {
    "ex1": "pub fn cheap_names(session: &Session, max: f64) -> orm::Result<Vec<String>> {\n    // BEGIN SOLUTION\n    let items = session.query::<Item>().filter(Item::price.le(max)).order_by(Item::name).all()?;\n    Ok(items.iter().map(|i| i.borrow().name.clone()).collect())\n    // END SOLUTION\n}",
    "ex2": "pub fn total(session: &Session) -> orm::Result<Option<f64>> {\n    // BEGIN SOLUTION\n    session.query_values(func::sum(Item::price)).scalar()\n    // END SOLUTION\n}",
}
tests = {
    "ex1": "// TEST cheap_names_are_sorted (2 points)\n{\n    let (_engine, session) = shop()?;\n    assert_eq!(cheap_names(&session, 2.0)?, [\"apple\", \"pear\"]);\n}\n\n// TEST nothing_is_that_cheap (1 point)\n{\n    let (_engine, session) = shop()?;\n    assert!(cheap_names(&session, 0.5)?.is_empty());\n}",
    "ex2": "// TEST total_of_the_shop (2 points)\n{\n    let (_engine, session) = shop()?;\n    assert_eq!(total(&session)?, Some(6.0));\n}",
}
cells = [cell(setup)]
for ex in ["ex1", "ex2"]:
    cells += [cell(answers[ex], "solution", ex), cell(tests[ex], "tests", ex)]
nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
json.dump(nb, open(os.path.join(work, "small.ipynb"), "w"), indent=1)
os.makedirs(os.path.join(work, "batch"))
for i in range(n):
    sub = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell(setup)]}
    for ex in ["ex1", "ex2"]:
        src = answers[ex]
        if (i + (ex == "ex2")) % 3 == 2:  # some learners leave an answer out
            start, end = src.index("    // BEGIN"), src.index("// END SOLUTION") + len("// END SOLUTION")
            src = src[:start] + "    todo!()" + src[end:]
        sub["cells"].append(cell(src, "solution", ex))
    json.dump(sub, open(os.path.join(work, "batch", f"learner{i:02}.ipynb"), "w"), indent=1)
EOF
timed jobs1 "$bin" batch "$work/batch" --assignment "$work/small.ipynb" --jobs 1 --csv "$work/jobs1.csv" --quiet
timed jobs2 "$bin" batch "$work/batch" --assignment "$work/small.ipynb" --jobs 2 --csv "$work/jobs2.csv" --quiet
cmp -s "$work/jobs1.csv" "$work/jobs2.csv" || { echo "the two gradebooks differ" >&2; exit 1; }

python3 - "$work" "$BATCH_N" "$load" <<'EOF'
import json, re, sys
work, n, load = sys.argv[1:]
n = int(n)
def measure(name):
    wall, user, system = map(float, open(f"{work}/{name}.time").read().split()[-3:])
    return wall, user + system
(cold, cold_cpu), (warm, warm_cpu) = measure("cold"), measure("warm")
(one, one_cpu), (two, two_cpu) = measure("jobs1"), measure("jobs2")
report = json.load(open(f"{work}/warm.json"))
timings = report["timings"]
cold_report = json.load(open(f"{work}/cold.json"))
tests = len(report["tests"])
cells = len(report["cells"])
section = f"""## Grader

Generated by `bash grader/bench.sh` (do not edit by hand). Seconds of the release `grader`
binary on this machine (2 cores; load average {load} when the run started: the machine is
shared); the ratios are from this one run. CPU is user + system time of the grader and
everything it started (cargo, rustc, the evaluation processes).

| what | wall s | CPU s | ratio (wall) |
| --- | ---: | ---: | ---: |
| one submission, cold (empty evaluator cache: `orm` and its dependencies built) | {cold:.1f} | {cold_cpu:.1f} | {cold / warm:.2f}x warm |
| one submission, warm (the prepared build copied) | {warm:.1f} | {warm_cpu:.1f} | 1.00 |
| batch of {n} small submissions, 1 worker | {one:.1f} | {one_cpu:.1f} | 1.00 |
| batch of {n} small submissions, 2 workers | {two:.1f} | {two_cpu:.1f} | {one / two:.2f}x as fast |

- The submission is the solution notebook: {cells} code cells of the learner's, then {tests} hidden
  tests, each its own evaluation. Warm: evaluator start {timings['start_seconds']:.1f} s, the
  learner's cells {timings['cells_seconds']:.1f} s, the tests {timings['tests_seconds']:.1f} s
  (cold start: {cold_report['timings']['start_seconds']:.1f} s). Every cell and test is compiled by
  rustc, which is where the time goes.
- The batch grades {n} notebooks of a small assignment (one model, two exercises, 3 hidden
  tests): {one / n:.1f} s per submission with one worker, about half of it starting the
  submission's own evaluator (copied from the prepared build, so that what one learner's code did
  cannot reach the next). A second worker can only use what the first leaves of the 2 cores
  (CPU / wall with 1 worker: {one_cpu / one:.2f}; with 2: {two_cpu / two:.2f}).
"""
path = "BENCHMARKS.md"
try:
    text = open(path).read()
except FileNotFoundError:
    text = ""
match = re.search(r"^## Grader\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
if match:
    text = text[: match.start()] + section + ("\n" if text[match.end():] else "") + text[match.end():]
else:
    text = text.rstrip("\n") + ("\n\n" if text else "") + section
open(path, "w").write(text)
print(section)
EOF
echo "== wrote the Grader section of BENCHMARKS.md"

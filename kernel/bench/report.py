"""Writes the "## Kernel" section of BENCHMARKS.md from the runs of kernel/bench/run.sh.

    python report.py WORK_DIR COMMAND

WORK_DIR holds orm-cold.json, orm-warm.json, orm-standby.json, evcxr-cold.json, evcxr-warm.json
(from drive.py, each with its restart), standby-cost.json and standby-start.txt (the idle
standby), load.txt, machine.txt and evcxr-setup.txt; the rest of BENCHMARKS.md is kept.
"""
import json
import re
import statistics
import sys

work, command = sys.argv[1], sys.argv[2]
NAMES = ("orm-cold", "orm-warm", "orm-standby", "evcxr-cold", "evcxr-warm")
TITLES = ("orm-kernel cold", "orm-kernel warm", "orm-kernel warm, standby",
          "evcxr_jupyter cold", "evcxr_jupyter warm")
runs = {name: json.load(open(f"{work}/{name}.json")) for name in NAMES}
standby_cost = json.load(open(f"{work}/standby-cost.json"))
standby_start = open(f"{work}/standby-start.txt").read().strip()
load = open(f"{work}/load.txt").read().strip()
load_end = open(f"{work}/load-end.txt").read().strip()
machine = open(f"{work}/machine.txt").read().strip()
# The setup cell names orm's folder on this machine: shown as the project's `orm/`.
setup_code = re.sub(r'path = "[^"]*"', 'path = "…/orm"', open(f"{work}/evcxr-setup.txt").read().strip())
try:
    start_lines = open(f"{work}/start-lines.txt").read().strip().splitlines()
except FileNotFoundError:
    start_lines = []


def ok_cells(run):
    return {c["index"] for c in run["cells"] if c["ok"]}


def cell_seconds(run, indexes=None):
    return [c["seconds"] for c in run["cells"] if indexes is None or c["index"] in indexes]


n_cells = len(runs["orm-warm"]["cells"])
# Cell 1 is left out of the per-cell comparison: under orm-kernel it includes waiting for the
# evaluator's start, which evcxr_jupyter spends in its setup cell (both are in the totals).
common = set.intersection(*(ok_cells(r) for r in runs.values())) - {1}
setup = {name: r.get("setup", {}).get("seconds", 0.0) for name, r in runs.items()}


def ratio(evcxr, orm):
    return f"{evcxr / orm:.2f}" if orm and evcxr is not None else ""


def row(label, values, fmt="{:.1f}", ratios=True):
    # None: not measured (a restart that failed; drive.py records why).
    cells = ["failed" if values[name] is None else fmt.format(values[name]) for name in NAMES]
    if ratios:
        cells += [ratio(values["evcxr-cold"], values["orm-cold"]),
                  ratio(values["evcxr-warm"], values["orm-warm"]),
                  ratio(values["evcxr-warm"], values["orm-standby"])]
    else:
        cells += ["", "", ""]
    return f"| {label} | " + " | ".join(cells) + " |"


def per(fn):
    return {name: fn(run) for name, run in runs.items()}


rows = [
    row("kernel answers `kernel_info` (s after start)", per(lambda r: r["ready_seconds"])),
    row("**first lesson cell's result (s after start)**", per(lambda r: r["first_result_seconds"])),
    row("**first result after a restart (s after the restart)**",
        per(lambda r: r["restart"].get("first_result_seconds"))),
    row("kernel answers `kernel_info` after the restart (s)", per(lambda r: r["restart"].get("ready_seconds"))),
    row("**whole lesson, start to last reply (s)**", per(lambda r: r["total_seconds"])),
    row(f"the {len(common)} cells after the first that ran in all five runs: sum (s)",
        per(lambda r: sum(cell_seconds(r, common))), "{:.1f}"),
    row(f"the same {len(common)} cells: median (s)",
        per(lambda r: statistics.median(cell_seconds(r, common))), "{:.2f}"),
    row(f"every cell ({n_cells}): median (s)", per(lambda r: statistics.median(cell_seconds(r))), "{:.2f}"),
    row("cells that failed", per(lambda r: n_cells - len(ok_cells(r))), "{:d}", ratios=False),
]

failed = {}
for name in ("evcxr-cold", "evcxr-warm") + NAMES[:3]:
    for c in runs[name]["cells"]:
        if not c["ok"]:
            failed.setdefault(c["index"], {})[name] = c
fail_lines = []
for index in sorted(failed):
    names = ", ".join(sorted(failed[index]))
    cell = next(iter(failed[index].values()))
    text = cell["text"].strip().splitlines()
    why = next((l for l in text if "error" in l.lower() or "panicked" in l), text[0] if text else cell["reason"])
    why = why.strip().replace("|", "\\|").replace("`", "'")[:160]
    fail_lines.append(f"| {index} | `{cell['first_line'][:60].replace('|', '/').replace('`', '')}` | {names} | {why} |")

per_cell = []
for i in range(n_cells):
    values = [runs[name]["cells"][i] for name in NAMES]
    shown = [f"{v['seconds']:.2f}" + ("" if v["ok"] else " ✗") for v in values]
    per_cell.append(f"| {i + 1} | " + " | ".join(shown) + " |")

warm_first = runs["orm-warm"]["first_result_seconds"]
warm_total = runs["orm-warm"]["total_seconds"]
evcxr_warm_total = runs["evcxr-warm"]["total_seconds"]
common_orm = sum(cell_seconds(runs["orm-warm"], common))
common_evcxr = sum(cell_seconds(runs["evcxr-warm"], common))
report_start = runs["orm-warm"].get("start_report", "")

warm_start = next((l for l in start_lines if l.startswith("orm-warm")), "")
parts = dict(re.findall(r"(copy|context|prelude) ([\d.]+) s", warm_start))
ready = re.search(r"ready in ([\d.]+) s", warm_start)
standby_first = runs["orm-standby"]["first_result_seconds"]
standby_restart = runs["orm-standby"]["restart"].get("first_result_seconds")


def seconds(value):
    return "not measured (the restart failed, below)" if value is None else f"{value:.1f} s"


# What the standbys logged about kernels they could not serve (e.g. a port still in use).
import glob
standby_faults = sorted({line.strip().replace("orm-kernel: ", "")
                         for path in glob.glob(f"{work}/standby*.log")
                         for line in open(path) if "cannot" in line})
restart_errors = [f"{name}: {r['restart']['error']}" for name, r in runs.items() if "error" in r["restart"]]
if parts and ready:
    why_not = f"""
Why, without a standby, the first result misses 2 s (warm, this run): the evaluator was ready
{ready.group(1)} s after the kernel started (copying the prepared folder {parts.get('copy', '?')} s, evcxr's
`EvalContext::new()` {parts.get('context', '?')} s, adding `orm` and the prelude {parts.get('prelude', '?')} s), and the
first cell then compiles like any other. The kernel answers `kernel_info` at once and starts the
evaluator at launch, in parallel with the protocol; what remains is serial work inside evcxr:
`EvalContext::new()` always compiles and runs a warm-up cell (`42`) after its embedded
rust-analyzer has loaded the standard library, and the prelude makes rust-analyzer load the crate
graph of `orm` and its dependencies (chrono, rusqlite, serde_json, …: every `let` of a cell is typed
by it) and compiles a cell linking `orm`. None of it can be skipped through evcxr's API, and a
restarted kernel is a new process (jupyter_client kills and relaunches it). The standby
(`orm-kernel standby`, kernel/README.md) does that work before Jupyter asks for a kernel: the
kernel it serves gave its first result {standby_first:.1f} s after start, and {seconds(standby_restart)} after a restart
(served by the next standby, started in the background while the lesson ran).

{"evcxr_jupyter's first result comes sooner than orm-kernel's without a standby" if runs['evcxr-warm']['first_result_seconds'] < warm_first else "evcxr_jupyter's first result does not wait for rust-analyzer's crate graph"}
({runs['evcxr-warm']['first_result_seconds']:.1f} s: setup cell {setup['evcxr-warm']:.1f} s, lesson cell 1
{runs['evcxr-warm']['cells'][0]['seconds']:.2f} s) because its rust-analyzer loads `orm`'s crate graph only at
the first cell with a `let`, lesson cell 2 ({runs['evcxr-warm']['cells'][1]['seconds']:.1f} s there,
{runs['orm-warm']['cells'][1]['seconds']:.1f} s here). orm-kernel does that in its prelude, since every cell it
runs starts with a `let` (the sentinel that tells a `?` error from success): the same work, earlier.
"""
else:
    why_not = ""

section = f"""## Kernel

Generated by `{command}` (do not edit by hand). The lesson notebook
(`notebooks/lesson.ipynb`, {n_cells} code cells) run cell by cell through jupyter_client against two
kernels: `orm-kernel` (this project) and `evcxr_jupyter` 0.22.0, into which a first cell of its own
adds the same `orm` crate (`{setup_code.replace(chr(10), ' ')}`; timed apart, included in the
totals, in "first lesson cell's result" and in the first result after a restart). Cold: empty
caches (orm-kernel: an empty `ORM_EVAL_CACHE_DIR`; evcxr_jupyter: an empty `EVCXR_TMPDIR`), so
`orm` and its dependencies are compiled; warm: the same again, reusing what the cold run built;
standby: warm, the kernel served by an `orm-kernel standby` started (and measured idle) before
(evcxr_jupyter has none). After the lesson every kernel is restarted as Jupyter does
(`KernelManager.restart_kernel`: a shutdown_request, a new kernel process) and its first cell run
again. One run of each; each cell is timed from its `execute_request` to its `execute_reply`, and
the start of the kernel process (of the restart) is the start of every "after start" ("after the
restart") figure. Ratios are evcxr_jupyter / orm-kernel (above 1: orm-kernel faster): cold / cold,
warm / warm, warm / standby.

- Machine: {machine}; load average {load} when the run started, {load_end} when it ended (the
  machine is shared: absolute seconds vary by a factor of up to 2 between runs, the ratios less).
- orm-kernel's own log of its evaluator's start: """ + "; ".join(
    f"`{line.replace('orm-kernel: ', '')}`" for line in start_lines) + f""".
- The evcxr_jupyter setup cell took {setup['evcxr-cold']:.1f} s cold and {setup['evcxr-warm']:.1f} s warm.
- What an idle standby costs (measured before it served the lesson, `kernel/bench/standby_cost.py`):
  {standby_cost['rss_mib']:.0f} MiB resident in {standby_cost['processes']} processes ({standby_cost['standby_rss_mib']:.0f} MiB of it the standby itself,
  which holds evcxr's context and its rust-analyzer database; the rest evcxr's evaluation process),
  and {standby_cost['idle_cpu_seconds']:.2f} s of CPU in {standby_cost['idle_seconds']:.0f} s of waiting. Its own start: `{standby_start.replace('standby: orm-kernel: ', '')}`.
  It stops on `orm-kernel standby --stop`, after `ORM_KERNEL_STANDBY_IDLE` seconds unused, or when killed.

| | orm-kernel cold | orm-kernel warm | orm-kernel warm, standby | evcxr_jupyter cold | evcxr_jupyter warm | ratio cold | ratio warm | ratio warm / standby |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
""" + "\n".join(rows) + f"""

Aims (issues #5 and #18), warm:
- first cell's result within 2 s of kernel start: {standby_first:.1f} s with a standby — {"met" if standby_first <= 2 else "missed"};
  {warm_first:.1f} s without — {"met" if warm_first <= 2 else "missed"}.
- the same after a restart: {seconds(standby_restart)} with a standby{"" if standby_restart is None else " — met" if standby_restart <= 2 else " — missed"};
  {seconds(runs['orm-warm']['restart'].get('first_result_seconds'))} without.
- whole notebook in half of evcxr_jupyter's time: {warm_total:.1f} s against {evcxr_warm_total:.1f} s,
  {warm_total / evcxr_warm_total:.2f} of it ({"met" if warm_total <= evcxr_warm_total / 2 else "missed"}), though evcxr_jupyter's total is flattered:
  its {n_cells - len(ok_cells(runs["evcxr-warm"]))} failing cells stop at type inference, before compiling. On the {len(common)} cells
  after the first that both ran: {common_orm:.1f} s against {common_evcxr:.1f} s ({common_orm / common_evcxr:.2f} of it,
  {"met" if common_orm <= common_evcxr / 2 else "missed"}).
- Cells are compiled unoptimised (`[profile.dev.package.ctx] opt-level = 0`, written by orm-eval
  beside its working folders; evcxr's default is 2, kept for `orm` and every dependency). Measured
  once by hand on the whole lesson run headless (`orm-kernel run`, warm): 71 s of CPU (user +
  system, every process) against 192 s with cells at level 2, the same outputs.
""" + why_not
if restart_errors:
    section += "\nRestarts that failed (the new kernel process did not answer): " + "; ".join(
        f"`{e}`" for e in restart_errors) + "." + ("" if not standby_faults else (
        " The standbys logged: " + "; ".join(f"`{f}`" for f in standby_faults) + "." +
        " (A restart reuses the kernel's ports; the standby before still held them while it shut"
        " its evaluator down. Since then a new kernel retries a port in use for up to 15 s,"
        " kernel/README.md.)")) + "\n"
if fail_lines:
    section += """
Cells that failed (✗ below; a cell failing under evcxr_jupyter is mostly DESIGN fact 3: its type
inference does not expand `#[derive(Model)]`, and later cells then miss what the failed cell defined):

| cell | first line | failed in | first error line |
| --- | --- | --- | --- |
""" + "\n".join(fail_lines) + "\n"
section += """
<details><summary>Seconds per cell</summary>

| cell | orm-kernel cold | orm-kernel warm | orm-kernel warm, standby | evcxr_jupyter cold | evcxr_jupyter warm |
| ---: | ---: | ---: | ---: | ---: | ---: |
""" + "\n".join(per_cell) + "\n\n</details>\n"

sys.path.insert(0, "tests")
from bench_section import put_section
put_section(section)
print(section)

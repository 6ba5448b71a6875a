"""Prints an executed notebook the way a reader sees it: each code cell, then its outputs.

With `--summary-seconds S`, ends with one line: `lesson: N cells run, F failures, S s` (the
notebook's file name without `.ipynb` first), and exits with status 1 when a cell failed (an error
output) or did not run.
"""
import argparse
import sys
from pathlib import Path

import nbformat

parser = argparse.ArgumentParser()
parser.add_argument("notebook")
parser.add_argument("--summary-seconds", type=int, help="the run's time, for the summary line")
args = parser.parse_args()

nb = nbformat.read(args.notebook, as_version=4)
ran = failed = code_cells = 0
for cell in nb.cells:
    if cell.cell_type == "markdown":
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        if first.startswith("#"):
            print(f"\n{first}\n")
        continue
    code_cells += 1
    ran += cell.get("execution_count") is not None
    print("\n".join(">>> " + line for line in cell.source.splitlines()))
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            print(out.text, end="" if out.text.endswith("\n") else "\n")
        elif out.output_type in ("execute_result", "display_data"):
            print(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            failed += 1
            print(f"ERROR {out.ename}: {out.evalue}")
    print()
if args.summary_seconds is not None:
    not_run = code_cells - ran
    extra = f" ({not_run} of {code_cells} not run)" if not_run else ""
    print(f"{Path(args.notebook).stem.removesuffix('.out')}: {ran} cells run, {failed} failures{extra}, {args.summary_seconds} s")
    sys.exit(1 if failed or not_run else 0)

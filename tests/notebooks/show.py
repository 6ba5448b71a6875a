"""Prints an executed notebook the way a reader sees it: each code cell, then its outputs."""
import sys

import nbformat

nb = nbformat.read(sys.argv[1], as_version=4)
for cell in nb.cells:
    if cell.cell_type == "markdown":
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        if first.startswith("#"):
            print(f"\n{first}\n")
        continue
    print("\n".join(">>> " + line for line in cell.source.splitlines()))
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            print(out.text, end="" if out.text.endswith("\n") else "\n")
        elif out.output_type in ("execute_result", "display_data"):
            print(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            print(f"ERROR {out.ename}: {out.evalue}")
    print()

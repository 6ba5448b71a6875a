"""Writes a small class of submissions made from the real notebooks, for the browser test:
`full` (the solution's answers), `blank` (the exercises notebook as handed out) and `broken`
(the answers with ex3's cell calling a function that does not exist on its third line, and a
`<script>` in a string the page must show as text).

usage: python make_submissions.py REPO_ROOT OUT_DIR
"""

import json
import pathlib
import sys

root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)


def kind(cell):
    return cell.get("metadata", {}).get("grader", {}).get("kind")


def source(cell):
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else text


solution = json.loads((root / "grader/assignment/solution.ipynb").read_text())
solution["cells"] = [c for c in solution["cells"] if kind(c) != "tests"]
(out / "full.ipynb").write_text(json.dumps(solution, indent=1))
(out / "blank.ipynb").write_text((root / "notebooks/exercises.ipynb").read_text())

broken = json.loads(json.dumps(solution))
for cell in broken["cells"]:
    grader = cell.get("metadata", {}).get("grader", {})
    if grader.get("kind") == "solution" and grader.get("exercise") == "ex3":
        lines = source(cell).split("\n")
        assert lines[2].strip().startswith("let books"), lines[2]
        lines[2] = '    let books = no_such_query(session, "<script>alert(1)</script>")?;'
        cell["source"] = "\n".join(lines)
(out / "broken.ipynb").write_text(json.dumps(broken, indent=1))
print(f"3 submissions in {out}")

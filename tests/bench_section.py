"""Puts one generated section into BENCHMARKS.md, keeping the others: each benchmark script writes
its own "## Title" section (tests/bench.sh the file's head, the others one section each).

    python tests/bench_section.py SECTION_FILE [BENCHMARKS.md]

SECTION_FILE starts with its "## Title" line. A section of that title is replaced where it is;
a new one goes at the end.
"""
import re
import sys


def load_result(folder: str, name: str):
    """The JSON a bench wrote to FOLDER/NAME, or None when that run did not happen."""
    import json
    import os

    path = os.path.join(folder, name)
    return json.load(open(path)) if os.path.exists(path) else None


def load_average_line(folder: str) -> str:
    """The section's line on the machine's load, from the FOLDER/load.txt a script wrote first."""
    import os

    load = open(os.path.join(folder, "load.txt")).read().strip()
    return f"- Load average when the run started: {load}\n"


def put_section(section: str, path: str = "BENCHMARKS.md") -> None:
    title = section.splitlines()[0]
    if not title.startswith("## "):
        sys.exit(f"bench_section.py: the section must start with a '## ' title, not {title!r}")
    section = section.rstrip("\n") + "\n"
    try:
        text = open(path).read()
    except FileNotFoundError:
        text = ""
    match = re.search(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
    if match:
        rest = text[match.end():]
        text = text[: match.start()] + section + ("\n" if rest else "") + rest
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    put_section(open(sys.argv[1]).read(), *sys.argv[2:])

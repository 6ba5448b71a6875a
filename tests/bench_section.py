"""Puts one generated section into BENCHMARKS.md, keeping the others: each benchmark script writes
its own "## Title" section (tests/bench.sh the file's head, the others one section each).

    python tests/bench_section.py SECTION_FILE [BENCHMARKS.md]

SECTION_FILE starts with its "## Title" line. A section of that title is replaced where it is;
a new one goes at the end.
"""
import re
import sys


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

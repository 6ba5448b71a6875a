"""Shared by the notebook tests: running a notebook through the installed `rust-orm` kernel, the text
of a cell's outputs, and the lesson's SQLite run (one per test session, which the PostgreSQL test
compares with)."""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
#: The first cell of a kernel may build `orm` (minutes, once); later cells take seconds.
CELL_TIMEOUT = int(os.environ.get("ORM_KERNEL_FIRST_CELL_TIMEOUT", "600"))


def execute(path, env=None):
    """Runs the notebook at `path` through the `rust-orm` kernel, every cell, stopping at the first
    error (nbclient's CellExecutionError); `env` is the kernel's whole environment (default: ours).
    Returns the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="rust-orm", timeout=CELL_TIMEOUT, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(**({"env": env} if env is not None else {}))
    return nb


def text_of(cell):
    """What a reader sees of a code cell: its stdout/stderr and each result's text/plain, in order."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


@pytest.fixture(scope="session")
def lesson(tmp_path_factory):
    """The lesson run on SQLite (no DATABASE_URL) with a temp folder of its own (TMPDIR, which Rust's
    `temp_dir()` reads), so what it leaves there can be seen; the executed notebook, with
    `left_in_temp` the names left in that folder."""
    temp = tmp_path_factory.mktemp("lesson-tmpdir")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ORM_FEATURES")}
    env["TMPDIR"] = str(temp)
    nb = execute(ROOT / "notebooks" / "lesson.ipynb", env)
    nb.left_in_temp = sorted(p.name for p in temp.iterdir())
    return nb


@pytest.fixture(scope="session")
def solution(tmp_path_factory):
    """The exercises' solution notebook (grader/assignment) run on SQLite: the executed notebook."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ORM_FEATURES")}
    env["TMPDIR"] = str(tmp_path_factory.mktemp("solution-tmpdir"))
    return execute(ROOT / "grader" / "assignment" / "solution.ipynb", env)

"""The learner's self-check through the real kernel: the exercises notebook made by `grader assign`
keeps the public tests in a check cell per exercise; run in orm-kernel with nothing hidden, it
reports each public test passed or failed with its message, the public points, and that hidden
tests run at grading (otter's `grader.check`)."""

import json
import pathlib

import pytest

from test_kernel_behaviour import Kernel, stdout_of

ROOT = pathlib.Path(__file__).resolve().parents[2]


def grader_kind(cell):
    return cell["metadata"].get("grader", {}).get("kind"), cell["metadata"].get("grader", {}).get("exercise")


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    yield k
    k.close()


def test_check_cell_reports_a_passing_and_a_failing_public_test(kernel):
    exercises = json.loads((ROOT / "notebooks/exercises.ipynb").read_text())
    solution = json.loads((ROOT / "grader/assignment/solution.ipynb").read_text())
    answer = next(source(c) for c in solution["cells"] if grader_kind(c) == ("solution", "ex3"))
    # books_after as the teacher wrote it; cheapest sorted the wrong way round.
    wrong = answer.replace(".order_by(Book::price)", ".order_by(Book::price.desc())")
    assert wrong != answer
    cells = exercises["cells"]
    check = next(i for i, c in enumerate(cells) if grader_kind(c) == ("public", "ex3"))
    for cell in cells[:check]:
        if cell["cell_type"] == "code" and "grader" not in cell["metadata"]:
            reply, outputs = kernel.execute(source(cell), timeout=300)
            assert reply["status"] == "ok", outputs
    reply, outputs = kernel.execute(wrong, timeout=300)
    assert reply["status"] == "ok", outputs

    check_source = source(cells[check])
    hidden = [line for line in json.dumps(solution).split("// TEST ")[1:] if " public\\n" not in line[:200]]
    for header in hidden:
        assert header.split(" (")[0] not in check_source, "a hidden test is in the check cell"
    reply, outputs = kernel.execute(check_source, timeout=300)
    assert reply["status"] == "ok", outputs
    text = stdout_of(outputs)
    assert "ex3 results: 1 of 2 public tests passed" in text, text
    assert "    books_after_is_strict_and_ordered passed (2/2 points)" in text, text
    assert "    cheapest_books_first failed (0/1 points): assertion `left == right` failed" in text, text
    assert "Public tests: 2 of 3 points." in text, text
    assert "Hidden tests will be run when your notebook is graded" in text, text
    # The failing test's panic is in the report, not spilled on stderr as a cell error.
    assert not [c for t, c in outputs if t == "error"], outputs

"""Whole notebooks through the rust-orm kernel: nbclient (what papermill and nbconvert use), and the
kernel's own headless runner `orm-kernel run`. The notebook uses orm the way the lesson does,
with an engine made in one cell and used in several later ones (DESIGN fact 2)."""

import json
import subprocess

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import FIRST_CELL_TIMEOUT, KERNEL_NAME

MODEL = """#[derive(Model, Debug, Clone, Default)]
#[orm(table = "users")]
pub struct User {
    #[orm(primary_key)] pub id: i64,
    pub name: String,
    #[orm(index)] pub age: Option<i64>,
}"""

CELLS = [
    MODEL,
    'let engine = create_engine("sqlite:///:memory:")?;',
    "MetaData::new().add::<User>().create_all(&engine)?;",
    """let session = Session::new(&engine);
session.add(User { name: "Alice".into(), age: Some(30), ..Default::default() });
session.add(User { name: "Bob".into(), age: Some(15), ..Default::default() });
session.commit()?;""",
    "let adults = session.query::<User>().filter(User::age.ge(18)).all()?;\nadults.len()",
    'println!("first adult: {}", adults[0].borrow().name);',
    "session.query::<User>().all()?.len()",
]


def notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Rust (orm)", "language": "rust"}
    return nb


def results(nb):
    """Per code cell: the text of its stdout and of its execute_result."""
    out = []
    for cell in nb.cells:
        stdout = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        value = "".join(o["data"].get("text/plain", "") for o in cell.outputs if o.output_type == "execute_result")
        out.append((stdout, value))
    return out


def kernel_binary():
    return KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv[0]


def test_nbclient_runs_the_orm_notebook():
    nb = notebook(CELLS)
    NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=FIRST_CELL_TIMEOUT, startup_timeout=120).execute()
    got = results(nb)
    assert got[4] == ("", "1")
    assert got[5] == ("first adult: Alice\n", "")
    assert got[6] == ("", "2")


def test_nbclient_stops_at_a_failing_cell_with_the_error_in_the_notebook():
    nb = notebook(["let a = 1;", 'panic!("stop here")', "a + 1"])
    client = NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=FIRST_CELL_TIMEOUT, startup_timeout=120)
    with pytest.raises(CellExecutionError):
        client.execute()
    errors = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert errors and errors[0]["ename"] == "Panic"
    assert nb.cells[2].outputs == []


def test_headless_run_of_a_missing_notebook_exits_2(tmp_path):
    done = subprocess.run([kernel_binary(), "run", str(tmp_path / "missing.ipynb")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "cannot read" in done.stderr


def test_headless_run_writes_outputs(tmp_path):
    source = tmp_path / "lesson.ipynb"
    nbformat.write(notebook(CELLS), source)
    out = tmp_path / "lesson.out.ipynb"
    done = subprocess.run([kernel_binary(), "run", str(source), "-o", str(out)], capture_output=True, text=True, timeout=FIRST_CELL_TIMEOUT)
    assert done.returncode == 0, done.stderr
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    got = results(nb)
    assert got[4] == ("", "1")
    assert got[5] == ("first adult: Alice\n", "")
    assert [c.execution_count for c in nb.cells] == list(range(1, len(CELLS) + 1))


def test_headless_run_stops_at_the_first_error_unless_allowed(tmp_path):
    source = tmp_path / "failing.ipynb"
    nbformat.write(notebook(['println!("one");', 'let n: i32 = "x".parse()?;', 'println!("three");']), source)
    done = subprocess.run([kernel_binary(), "run", str(source)], capture_output=True, text=True, timeout=FIRST_CELL_TIMEOUT)
    assert done.returncode == 1, done.stderr  # 1: cells failed; 2: could not run at all
    nb = json.loads(source.read_text())
    assert nb["cells"][1]["outputs"][-1]["output_type"] == "error"
    assert nb["cells"][2]["outputs"] == [] and nb["cells"][2]["execution_count"] is None

    done = subprocess.run([kernel_binary(), "run", str(source), "--allow-errors"], capture_output=True, text=True, timeout=FIRST_CELL_TIMEOUT)
    assert done.returncode == 1, done.stderr
    nb = json.loads(source.read_text())
    assert nb["cells"][2]["outputs"][0]["text"] == "three\n"


def test_headless_run_interrupts_a_cell_over_its_time_limit(tmp_path):
    source = tmp_path / "slow.ipynb"
    nbformat.write(notebook(["loop {}", "1"]), source)
    done = subprocess.run([kernel_binary(), "run", str(source), "--timeout", "5"], capture_output=True, text=True, timeout=FIRST_CELL_TIMEOUT)
    assert done.returncode == 1, done.stderr
    nb = json.loads(source.read_text())
    assert nb["cells"][0]["outputs"][-1]["ename"] == "Interrupted"

"""The kernel behaving as Jupyter users expect (issue #18): output as Jupyter shows it, stdin,
variables surviving an interrupt, errors at the learner's line, the kernel's `:` commands, and
the N+1 note. Each test drives the real kernel through jupyter_client."""

import json
import os
import pathlib
import time

import pytest

from conftest import FIRST_CELL_TIMEOUT
from test_kernel_behaviour import Kernel, result_of, stdout_of

LESSON = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "lesson.ipynb"


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    yield k
    k.close()


def stderr_of(outputs):
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stderr")


def displays(outputs):
    return [(t, c) for t, c in outputs if t in ("display_data", "update_display_data")]


def lesson_cell(marker):
    cells = json.loads(LESSON.read_text())["cells"]
    found = ["".join(c["source"]) for c in cells if c["cell_type"] == "code" and marker in "".join(c["source"])]
    assert len(found) == 1, f"{marker!r} is in {len(found)} lesson cells"
    return found[0]


# --- output as Jupyter shows it


def test_print_without_newline_shows_in_its_own_cell(kernel):
    reply, outputs = kernel.execute('print!("loading...")')
    assert reply["status"] == "ok"
    assert stdout_of(outputs) == "loading..."
    reply, outputs = kernel.execute('println!(" done")')
    assert stdout_of(outputs) == " done\n"


def test_eprint_without_newline_shows_in_its_own_cell(kernel):
    reply, outputs = kernel.execute('eprint!("careful")')
    assert reply["status"] == "ok"
    assert stderr_of(outputs) == "careful"


def test_text_before_a_value_comes_first(kernel):
    reply, outputs = kernel.execute('print!("answer: ");\n6 * 7')
    assert [t for t, _ in outputs if t in ("stream", "execute_result")] == ["stream", "execute_result"]
    assert stdout_of(outputs) == "answer: "
    assert result_of(outputs) == ["42"]


CARD = """pub struct Card(pub &'static str);
impl Card {
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/html\\n<b>{}</b>\\nEVCXR_END_CONTENT", self.0);
        println!("EVCXR_BEGIN_CONTENT text/plain\\n{}\\nEVCXR_END_CONTENT", self.0);
    }
}"""


def test_every_evcxr_display_call_is_its_own_display_data_in_order(kernel):
    assert kernel.execute(CARD)[0]["status"] == "ok"
    reply, outputs = kernel.execute('Card("one").evcxr_display();\nCard("two").evcxr_display();')
    assert reply["status"] == "ok"
    shown = displays(outputs)
    assert [t for t, _ in shown] == ["display_data", "display_data"]
    assert [c["data"]["text/html"] for _, c in shown] == ["<b>one</b>", "<b>two</b>"]
    assert [c["data"]["text/plain"] for _, c in shown] == ["one", "two"]
    assert result_of(outputs) == []


def test_a_display_and_a_final_value_both_show(kernel):
    kernel.execute(CARD)
    reply, outputs = kernel.execute('jupyter::html("<i>first</i>");\nCard("the value")')
    assert reply["status"] == "ok"
    kinds = [t for t, _ in outputs if t in ("display_data", "execute_result")]
    assert kinds == ["display_data", "execute_result"]
    assert displays(outputs)[0][1]["data"]["text/html"] == "<i>first</i>"
    value = [c for t, c in outputs if t == "execute_result"][0]
    assert value["data"] == {"text/html": "<b>the value</b>", "text/plain": "the value"}


def test_display_id_output_is_updated_in_place(kernel):
    reply, outputs = kernel.execute(
        'jupyter::display_with_id("progress", "text/plain", "0%");\n'
        'for p in [50, 100] { jupyter::update_display("progress", "text/plain", format!("{p}%")); }'
    )
    assert reply["status"] == "ok"
    shown = displays(outputs)
    assert [t for t, _ in shown] == ["display_data", "update_display_data", "update_display_data"]
    assert [c["transient"]["display_id"] for _, c in shown] == ["progress"] * 3
    assert [c["data"]["text/plain"] for _, c in shown] == ["0%", "50%", "100%"]


def test_application_json_is_sent_as_a_json_object(kernel):
    reply, outputs = kernel.execute('jupyter::display("application/json", r#"{"a": [1, 2], "b": null}"#);')
    assert reply["status"] == "ok"
    (_, content), = displays(outputs)
    assert content["data"]["application/json"] == {"a": [1, 2], "b": None}


# A final value that uses a variable of its own cell shows its HTML table as the same expression
# alone does (issue #21: the lesson's `engine.execute(core_query)?.to_table()` came as plain text).
TABLE_SETUP = """\
let fv_engine = create_engine("sqlite:///:memory:")?;
fv_engine.execute(orm::core::text("CREATE TABLE pets (name TEXT, legs INTEGER)"))?;
fv_engine.execute(orm::core::text("INSERT INTO pets VALUES ('Rex', 4), ('Tweety', 2)"))?;
"""
PETS = 'orm::core::text("SELECT name, legs FROM pets ORDER BY name")'
FINAL_VALUE_SHAPES = {
    "alone": f"fv_engine.execute({PETS})?.to_table()",
    "method on a variable of the cell": f"let rows = fv_engine.execute({PETS})?;\nrows.to_table()",
    "the variable itself": f"let t = fv_engine.execute({PETS})?.to_table();\nt",
    "a result set variable": f"let rows = fv_engine.execute({PETS})?;\nrows",
    "a reference to it": f"let rows = fv_engine.execute({PETS})?;\n&rows",
    "moved into a call": f"let q = {PETS};\nfv_engine.execute(q)?.to_table()",
    "moved on the line after a comment": f"let q = {PETS}; // the query\nfv_engine.execute(q)?.to_table()",
    "a method chain through a block": f"let q = {PETS};\n{{ fv_engine.execute(q)? }}.to_table()",
    "two variables, one moved": f"let q = {PETS};\nlet title = \"pets\";\nprintln!(\"{{title}}\");\nfv_engine.execute(q)?.to_table()",
    "a chain on a borrowed variable": f"let rows = fv_engine.execute({PETS})?;\nrows.to_table().clone()",
}


@pytest.mark.parametrize("shape", list(FINAL_VALUE_SHAPES))
def test_a_final_value_using_a_variable_of_its_cell_shows_its_html_table(kernel, shape):
    reply, _ = kernel.execute(TABLE_SETUP)
    assert reply["status"] == "ok", reply
    reply, outputs = kernel.execute(FINAL_VALUE_SHAPES[shape])
    assert reply["status"] == "ok", outputs
    values = [c for t, c in outputs if t == "execute_result"]
    assert len(values) == 1, outputs
    assert "text/html" in values[0]["data"], values[0]["data"]
    html = values[0]["data"]["text/html"]
    assert "<th>name</th><th>legs</th>" in html
    assert "<td>Rex</td><td>4</td>" in html and "<td>Tweety</td><td>2</td>" in html


def test_a_final_value_that_borrows_a_temporary_still_shows(kernel):
    # Bound first, `v.iter().max()` would borrow a dropped temporary; the cell runs as written.
    reply, outputs = kernel.execute("let v = vec![3, 1, 2];\nv.iter().max().copied()")
    assert reply["status"] == "ok", outputs
    assert result_of(outputs) == ["Some(3)"]
    # The variable is kept for the next cell, as without the rewrite.
    reply, outputs = kernel.execute("v.len()")
    assert result_of(outputs) == ["3"]


# --- stdin

READ_LINE = """let mut line = String::new();
let n = std::io::stdin().read_line(&mut line).unwrap();
println!("read {n} bytes: {:?}", line);"""


def test_stdin_read_is_an_input_request_when_the_frontend_allows_it(kernel):
    asked = []

    def answer(msg):
        asked.append(msg["content"])
        kernel.kc.input("Ada")

    outputs = []
    reply = kernel.kc.execute_interactive(
        READ_LINE,
        timeout=60,
        allow_stdin=True,
        stdin_hook=answer,
        output_hook=lambda m: outputs.append((m["msg_type"], m["content"])),
    )
    assert reply["content"]["status"] == "ok"
    assert len(asked) == 1 and asked[0]["password"] is False
    assert stdout_of(outputs) == 'read 4 bytes: "Ada\\n"\n'


def test_stdin_read_sees_end_of_input_when_the_frontend_does_not_allow_it(kernel):
    started = time.monotonic()
    reply, outputs = kernel.execute(READ_LINE, timeout=60, allow_stdin=False)
    assert reply["status"] == "ok"
    assert stdout_of(outputs) == 'read 0 bytes: ""\n'
    assert time.monotonic() - started < 30


# --- errors point at the learner's line

PERSON = """#[derive(Model, Debug, Clone, Default)]
#[orm(table = "people")]
pub struct Person {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
}"""


def test_borrow_mut_while_borrowed_points_at_the_cell_line(kernel):
    assert kernel.execute(PERSON)[0]["status"] == "ok"
    kernel.execute('let person = Obj::new(Person { name: "Ada".into(), ..Default::default() });')
    reply, _ = kernel.execute('{\n    let held = person.borrow();\n    person.borrow_mut().name = "Grace".into();\n    println!("{}", held.name);\n}')
    assert reply["status"] == "error"
    assert reply["ename"] == "Panic"
    assert "line 3" in reply["evalue"], reply["evalue"]
    assert "model.rs" not in reply["evalue"] and "orm/src" not in reply["evalue"]


# --- the kernel's own commands


def test_vars_shows_a_table_of_variables_and_types(kernel):
    kernel.execute("let vars_number: u8 = 5;\nlet vars_names = vec![String::from(\"a\")];")
    reply, outputs = kernel.execute(":vars")
    assert reply["status"] == "ok"
    (_, content), = displays(outputs)
    text = content["data"]["text/plain"]
    assert any(line.split() == ["vars_number", "u8"] for line in text.splitlines()), text
    assert any(line.split() == ["vars_names", "Vec<String>"] for line in text.splitlines()), text
    assert "<td><code>vars_number</code></td>" in content["data"]["text/html"]


def test_timing_shows_each_cells_time_until_turned_off(kernel):
    reply, outputs = kernel.execute(":timing on")
    assert stdout_of(outputs) == "timing on\n"
    _, outputs = kernel.execute("1 + 1")
    assert stderr_of(outputs).startswith("took ") and stderr_of(outputs).endswith(" s\n")
    kernel.execute(":timing off")
    _, outputs = kernel.execute("1 + 1")
    assert stderr_of(outputs) == ""


def test_help_lists_the_commands(kernel):
    reply, outputs = kernel.execute(":help")
    assert reply["status"] == "ok"
    for command in (":vars", ":timing", ":clear", ":help"):
        assert command in stdout_of(outputs)


def test_other_commands_are_still_refused(kernel):
    reply, _ = kernel.execute(":vars\n:dep rand")
    assert reply["status"] == "error"
    assert reply["ename"] == "CommandRejected"


# --- the N+1 note


def test_lazy_loading_cell_of_the_lesson_gets_the_n_plus_1_note_and_eager_ones_do_not(kernel):
    assert kernel.execute(lesson_cell("has_many(posts: Post"))[0]["status"] == "ok"
    reply, outputs = kernel.execute(lesson_cell("let lazy_session"), timeout=120)
    assert reply["status"] == "ok"
    note = stderr_of(outputs)
    assert "ran 1000 SELECT statements of the same shape" in note, note
    assert "selectinload(User::posts)" in note
    shown = [(t, c) for t, c in outputs if t != "status"]
    assert shown[-1][0] == "stream" and shown[-1][1]["name"] == "stderr", "the note comes last"
    assert "N+1" in shown[-1][1]["text"]
    reply, outputs = kernel.execute(lesson_cell("let selectin_session"), timeout=120)
    assert reply["status"] == "ok"
    assert "N+1" not in stderr_of(outputs)
    assert "selectinload: 3000 posts, 3 statements" in stdout_of(outputs)


# --- variables survive an interrupt (last in this module: it replays every cell above)


def test_interrupt_then_the_next_cell_reads_an_earlier_variable(kernel):
    kernel.execute("let kept_value = 41;")
    assert kernel.execute(PERSON)[0]["status"] == "ok"
    reply, _ = kernel.execute(
        'let memory = create_engine("sqlite:///:memory:")?;\n'
        'MetaData::new().add::<Person>().create_all(&memory)?;\n'
        'Session::scoped(&memory, |s| { s.add(Person { name: "Ada".into(), ..Default::default() }); Ok(()) })?;'
    )
    assert reply["status"] == "ok", reply
    msg_id = kernel.kc.execute("loop {}")
    time.sleep(3)
    kernel.km.interrupt_kernel()
    outputs = []
    while True:
        msg = kernel.kc.get_iopub_msg(timeout=300)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        outputs.append((msg["msg_type"], msg["content"]))
    reply = kernel.kc.get_shell_msg(timeout=60)
    assert reply["content"]["ename"] == "Interrupted"
    assert "replayed" in stderr_of(outputs)
    reply, outputs = kernel.execute("kept_value + 1")
    assert result_of(outputs) == ["42"]
    reply, outputs = kernel.execute("Session::new(&memory).query::<Person>().all()?.len()")
    assert result_of(outputs) == ["1"], ("the in-memory database came back with the replay", reply)


def test_without_replay_an_interrupt_loses_the_variables():
    k = Kernel(env={"ORM_KERNEL_REPLAY": "0"})
    try:
        k.execute("let lost_value = 1;")
        msg_id = k.kc.execute("loop {}")
        time.sleep(3)
        k.km.interrupt_kernel()
        reply = k.kc.get_shell_msg(timeout=60)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["ename"] == "Interrupted"
        reply, _ = k.execute("lost_value")
        assert reply["status"] == "error"
    finally:
        k.close()


def test_clear_forgets_variables_and_items_and_orm_stays_loaded():
    k = Kernel()
    try:
        k.execute("let cleared_value = 1;\nfn cleared_fn() -> i32 { 2 }")
        reply, outputs = k.execute(":clear", timeout=300)
        assert reply["status"] == "ok"
        assert stdout_of(outputs).startswith("cleared")
        for gone in ("cleared_value", "cleared_fn()"):
            reply, _ = k.execute(gone)
            assert reply["status"] == "error", gone
        reply, outputs = k.execute('create_engine("sqlite:///:memory:").is_ok()')
        assert result_of(outputs) == ["true"]
        reply, outputs = k.execute('print!("still");')
        assert stdout_of(outputs) == "still"
    finally:
        k.close()

"""The rust-orm kernel beyond the conformance suite: signatures, malformed messages, interrupts,
restarts, stop_on_error, variables across cells, and orm preloaded."""

import os
import random
import tempfile
import time

import pytest
import zmq
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

from conftest import FIRST_CELL_TIMEOUT, KERNEL_NAME


class Kernel:
    """A kernel started for a test, its stderr kept in a file to check what it logged."""

    def __init__(self, env=None, warm_up=True):
        self.log = tempfile.NamedTemporaryFile(prefix="orm-kernel-", suffix=".log", delete=False)
        self.km = KernelManager(kernel_name=KERNEL_NAME)
        self.km.start_kernel(stderr=self.log, env=dict(os.environ, **(env or {})))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        if warm_up:
            self.execute("1", timeout=FIRST_CELL_TIMEOUT)

    def execute(self, code, timeout=60, **options):
        """Runs `code`; returns (reply content, [(msg_type, content)] of its iopub outputs)."""
        outputs = []
        reply = self.kc.execute_interactive(
            code, timeout=timeout, output_hook=lambda m: outputs.append((m["msg_type"], m["content"])), **options
        )
        return reply["content"], outputs

    def logged(self):
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def close(self):
        self.kc.stop_channels()
        if self.km.is_alive():
            self.km.shutdown_kernel(now=True)
        self.log.close()
        os.unlink(self.log.name)


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    yield k
    k.close()


def stdout_of(outputs):
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stdout")


def result_of(outputs):
    return [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"]


def test_variables_live_across_cells(kernel):
    kernel.execute("let mut names = vec![String::from(\"Alice\")];")
    kernel.execute('names.push("Bob".into());')
    reply, outputs = kernel.execute("names.len()")
    assert reply["status"] == "ok"
    assert result_of(outputs) == ["2"]


def test_panicking_cell_is_an_error_and_the_next_cell_works(kernel):
    kernel.execute("let kept = 7;")
    reply, outputs = kernel.execute('panic!("boom")')
    assert reply["status"] == "error"
    assert reply["ename"] == "Panic"
    assert "boom" in reply["evalue"]
    assert [t for t, _ in outputs].count("error") == 1
    reply, outputs = kernel.execute("kept + 1")
    assert reply["status"] == "ok"
    assert result_of(outputs) == ["8"]


def test_compile_errors_point_at_the_cell_line(kernel):
    reply, _ = kernel.execute('let a = 1;\nlet b: i32 = "two";')
    assert reply["status"] == "error"
    assert reply["ename"] == "CompileError"
    traceback = "\n".join(reply["traceback"])
    assert "cell:2:14" in traceback
    assert 'let b: i32 = "two";' in traceback


@pytest.mark.parametrize("code", [":dep rand", "!ls", "  :quit", "// comment\n:dep x", "!rm -rf /tmp/nothing"])
def test_commands_and_shell_lines_are_refused(kernel, code):
    reply, outputs = kernel.execute(code)
    assert reply["status"] == "error"
    assert reply["ename"] == "CommandRejected"
    assert stdout_of(outputs) == ""


def test_process_exit_is_an_error_and_the_cells_before_are_replayed(kernel):
    kernel.execute("let before_exit = 1;")
    reply, outputs = kernel.execute("std::process::exit(3)", timeout=300)
    assert reply["status"] == "error"
    assert reply["ename"] == "ProcessEnded"
    notes = "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stderr")
    assert "replayed" in notes and "let before_exit = 1;" in notes
    reply, outputs = kernel.execute("40 + 2")
    assert result_of(outputs) == ["42"]
    reply, outputs = kernel.execute("before_exit")
    assert result_of(outputs) == ["1"]


def test_output_streams_while_the_cell_runs(kernel):
    code = 'for i in 0..3 { println!("tick {i}"); std::thread::sleep(std::time::Duration::from_millis(700)); }'
    stamps = []
    kernel.kc.execute_interactive(
        code,
        timeout=60,
        output_hook=lambda m: stamps.append(time.monotonic()) if m["msg_type"] == "stream" else None,
    )
    assert len(stamps) == 3
    assert stamps[-1] - stamps[0] > 1.0, "stdout arrived only at the end of the cell"


def interrupt_a_running_loop(kernel, interrupt):
    """Runs `loop {}`, calls `interrupt()` 4 s in, and checks the cell's reply is an
    `Interrupted` error within 30 s."""
    msg_id = kernel.kc.execute("loop {}")
    time.sleep(4)
    started = time.monotonic()
    interrupt()
    reply = kernel.kc.get_shell_msg(timeout=60)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "Interrupted"
    assert time.monotonic() - started < 30


def test_loop_is_interrupted_and_the_kernel_recovers(kernel):
    interrupt_a_running_loop(kernel, kernel.km.interrupt_kernel)
    reply, outputs = kernel.execute("1 + 1")
    assert result_of(outputs) == ["2"]


def test_stop_on_error_aborts_requests_already_queued(kernel):
    first = kernel.kc.execute('panic!("first fails")')
    second = kernel.kc.execute('println!("must not run")')
    third = kernel.kc.execute('println!("must not run either")')
    replies = {}
    while len(replies) < 3:
        msg = kernel.kc.get_shell_msg(timeout=60)
        replies[msg["parent_header"]["msg_id"]] = msg["content"]["status"]
    assert replies == {first: "error", second: "aborted", third: "aborted"}
    reply, outputs = kernel.execute('println!("runs again")')
    assert "runs again" in stdout_of(outputs)


def test_without_stop_on_error_queued_requests_run(kernel):
    first = kernel.kc.execute('panic!("fails")', stop_on_error=False)
    second = kernel.kc.execute("2 + 3")
    replies = {}
    while len(replies) < 2:
        msg = kernel.kc.get_shell_msg(timeout=60)
        replies[msg["parent_header"]["msg_id"]] = msg["content"]["status"]
    assert replies == {first: "error", second: "ok"}


def test_silent_execution_publishes_nothing_and_is_not_counted(kernel):
    before, _ = kernel.execute("1")
    reply, outputs = kernel.execute('println!("quiet")', silent=True)
    assert reply["status"] == "ok"
    assert [t for t, _ in outputs if t != "status"] == []
    after, _ = kernel.execute("1")
    assert after["execution_count"] == before["execution_count"] + 1


def signed_frames(session, msg_type, content):
    msg = session.msg(msg_type, content)
    return session.serialize(msg), msg["header"]["msg_id"]


def shell_socket(kernel):
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(f"tcp://{kernel.km.ip}:{kernel.km.shell_port}")
    return sock


def replies_for(sock, timeout_ms):
    frames = []
    if sock.poll(timeout_ms):
        frames = sock.recv_multipart()
    return frames


def test_forged_signature_is_dropped_and_logged(kernel):
    forger = Session(key=b"not the kernel's key")
    sock = shell_socket(kernel)
    try:
        frames, _ = signed_frames(forger, "execute_request", {"code": 'println!("forged")', "silent": False})
        sock.send_multipart(frames)
        assert replies_for(sock, 3000) == [], "a forged request got a reply"
    finally:
        sock.close()
    assert "bad signature" in kernel.logged()
    reply, outputs = kernel.execute("3 * 3")
    assert result_of(outputs) == ["9"]


def test_malformed_and_fuzzed_messages_do_not_crash_the_kernel(kernel):
    session = Session(key=kernel.km.session.key)
    good, _ = signed_frames(session, "kernel_info_request", {})
    rng = random.Random(1234)
    cases = [
        [b"garbage"],
        [b"<IDS|MSG>"],
        good[:3],
        good[:-1],
        [b"<IDS|MSG>", b"", b"{", b"{}", b"{}", b"{}"],
        [b"<IDS|MSG>", b"zz" * 32, b"{}", b"{}", b"{}", b"{}"],
        [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(6)],
    ]
    # Correctly signed, but nonsense inside.
    for header, content in [
        (b"[1, 2]", b"{}"),
        (b'{"msg_type": 5}', b"{}"),
        (b'{"msg_type": "execute_request"}', b'{"code": 12}'),
        (b'{"msg_type": "complete_request", "msg_id": "x"}', b'{"code": "abc", "cursor_pos": 99999}'),
        (b'{"msg_type": "inspect_request", "msg_id": "y"}', b'{"code": "\xc3\xa9t\xc3\xa9", "cursor_pos": -3}'),
        (b'{"msg_type": "history_request", "msg_id": "z"}', b'{"hist_access_type": "range", "start": "a"}'),
        (b'{"msg_type": "no_such_request"}', b"{}"),
    ]:
        parts = [header, b"{}", b"{}", content]
        cases.append([b"<IDS|MSG>", session.sign(parts)] + parts)
    sock = shell_socket(kernel)
    try:
        for frames in cases:
            sock.send_multipart(frames)
        for _ in range(50):
            sock.send_multipart([bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64))) for _ in range(rng.randrange(1, 9))])
        sock.send_multipart(good)
        deadline = time.monotonic() + 60
        got_info = False
        while time.monotonic() < deadline and not got_info:
            frames = replies_for(sock, 1000)
            if frames:
                msg = session.deserialize(frames[frames.index(b"<IDS|MSG>") + 1 :])
                got_info = msg["msg_type"] == "kernel_info_reply"
        assert got_info, "no kernel_info_reply after the malformed messages"
    finally:
        sock.close()
    assert kernel.km.is_alive()
    reply, outputs = kernel.execute("5 + 5")
    assert result_of(outputs) == ["10"]


def test_heartbeat_echoes_while_a_cell_runs(kernel):
    msg_id = kernel.kc.execute("std::thread::sleep(std::time::Duration::from_secs(3));")
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.linger = 0
    sock.connect(f"tcp://{kernel.km.ip}:{kernel.km.hb_port}")
    try:
        for i in range(3):
            sock.send(b"ping %d" % i)
            assert sock.poll(2000), "no heartbeat echo"
            assert sock.recv() == b"ping %d" % i
    finally:
        sock.close()
    reply = kernel.kc.get_shell_msg(timeout=60)
    assert reply["parent_header"]["msg_id"] == msg_id


def test_restart_gives_a_fresh_kernel():
    k = Kernel()
    try:
        k.execute("let before_restart = 1;")
        k.km.restart_kernel(now=False)
        k.kc.wait_for_ready(timeout=60)
        k.execute("1", timeout=FIRST_CELL_TIMEOUT)
        reply, _ = k.execute("before_restart")
        assert reply["status"] == "error"
        reply, outputs = k.execute("2 * 21")
        assert result_of(outputs) == ["42"]
    finally:
        k.close()


def test_an_evaluator_that_cannot_start_is_reported_in_each_cell():
    k = Kernel(env={"ORM_EVAL_ORM_PATH": "/nonexistent/orm"}, warm_up=False)
    try:
        reply, outputs = k.execute("1 + 1")
        assert reply["status"] == "error"
        assert "did not start" in reply["evalue"] and "/nonexistent/orm" in reply["evalue"]
        info = k.kc.kernel_info(reply=True, timeout=10)
        assert info["content"]["status"] == "ok"
    finally:
        k.close()


def test_shutdown_request_ends_the_process():
    k = Kernel()
    try:
        k.km.shutdown_kernel(now=False)
        assert not k.km.is_alive()
    finally:
        k.close()

"""A standby (`orm-kernel standby`) holds a started evaluator; the next kernel Jupyter starts is
served by it, so its first result comes in about a second; it starts the next standby for the
kernel after (a restart is a new kernel), and stops on `orm-kernel standby --stop`."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from conftest import KERNEL_NAME
from test_kernel_behaviour import Kernel, interrupt_a_running_loop, result_of

# How fast a served kernel answers is measured by kernel/bench (BENCHMARKS.md, Kernel), not
# asserted here: these tests check that the standby serves, on a machine of any load.


def kernel_binary():
    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    return spec.argv[0]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def standby():
    folder = Path(tempfile.mkdtemp(prefix="orm-standby-"))
    socket = folder / "standby.sock"
    env = dict(os.environ, ORM_KERNEL_STANDBY_SOCKET=str(socket))
    log = open(folder / "first.log", "w")
    first = subprocess.Popen([kernel_binary(), "standby"], env=env, stderr=log, stdin=subprocess.DEVNULL)
    wait_for(lambda: "evaluator ready" in (folder / "first.log").read_text(), 600, "the standby's evaluator")
    yield socket, env
    subprocess.run([kernel_binary(), "standby", "--stop"], env=env, timeout=60)
    if first.poll() is None:
        first.terminate()
        first.wait(timeout=30)
    log.close()
    shutil.rmtree(folder, ignore_errors=True)


def start_and_run_a_first_cell(env):
    k = Kernel(env=env, warm_up=False)
    reply, outputs = k.execute("6 * 7", timeout=600)
    return k, result_of(outputs)


def test_a_kernel_served_by_a_standby_answers_its_first_cell_at_once_and_a_new_standby_waits(standby):
    socket, env = standby
    k, result = start_and_run_a_first_cell(env)
    try:
        assert result == ["42"]
        assert "served by the standby" in k.logged()
        # The kernel's folder is the cells' folder, as without a standby.
        reply, outputs = k.execute("std::env::current_dir().unwrap().display().to_string()")
        assert result_of(outputs) == [repr(os.getcwd()).replace("'", '"')]
        # The next standby started in the background and waits on the same socket.
        wait_for(socket.exists, 60, "the next standby")
        log = socket.with_suffix(".log")
        wait_for(lambda: log.exists() and "evaluator ready" in log.read_text(), 600, "the next standby's evaluator")
    finally:
        k.close()
    # A restart is a new kernel: the next standby serves it.
    k, result = start_and_run_a_first_cell(env)
    try:
        assert result == ["42"]
        assert "served by the standby" in k.logged()
    finally:
        k.close()
    wait_for(socket.exists, 60, "a third standby")
    # The kernels' standbys ended with their stand-ins.
    time.sleep(2)
    stopped = subprocess.run([kernel_binary(), "standby", "--stop"], env=env, capture_output=True, text=True, timeout=60)
    assert "stopped the standby" in stopped.stdout
    wait_for(lambda: not socket.exists(), 30, "the standby to stop")


def test_without_a_standby_the_kernel_starts_as_before(tmp_path):
    env = {"ORM_KERNEL_STANDBY_SOCKET": str(tmp_path / "none.sock")}
    k, result = start_and_run_a_first_cell(env)
    try:
        assert result == ["42"]
        assert "served by the standby" not in k.logged()
    finally:
        k.close()


def test_a_restart_as_jupyter_does_it_is_served_by_the_next_standby(standby):
    """KernelManager.restart_kernel: a shutdown_request, then a new process on the same ports,
    served by the next standby while the one before may still hold them (it binds once they
    are free, found by kernel/bench)."""
    socket, env = standby
    k, result = start_and_run_a_first_cell(env)
    try:
        assert result == ["42"]
        log = socket.with_suffix(".log")
        wait_for(lambda: log.exists() and "evaluator ready" in log.read_text(), 600, "the next standby's evaluator")
        started = time.monotonic()
        k.km.restart_kernel(now=False)
        k.kc.wait_for_ready(timeout=120)
        reply, outputs = k.execute("6 * 7", timeout=120)
        assert reply["status"] == "ok", outputs
        assert result_of(outputs) == ["42"]
        assert time.monotonic() - started < 30, "the restart took longer than waiting for the ports"
        assert k.logged().count("served by the standby") == 2, k.logged()
        assert "cannot bind" not in log.read_text()
    finally:
        k.close()
    # The restarted kernel's standby started the next one as it ended: the fixture stops it.
    wait_for(socket.exists, 60, "the standby after the restart")


def test_a_sigint_to_the_process_jupyter_started_interrupts_the_cell_the_standby_runs(standby):
    """The process Jupyter started is a stand-in; a terminal's Ctrl-C (or `interrupt_mode:
    signal`) reaches it, and it forwards the signal to the standby that serves the kernel
    (through a pidfd, so never to a process that took the standby's id after it ended)."""
    socket, env = standby
    k, result = start_and_run_a_first_cell(env)
    try:
        assert "served by the standby" in k.logged()
        reply, outputs = k.execute("let kept = 41;")
        assert reply["status"] == "ok", outputs
        interrupt_a_running_loop(k, lambda: os.kill(k.km.provisioner.process.pid, signal.SIGINT))
        reply, outputs = k.execute("kept + 1")
        assert result_of(outputs) == ["42"], outputs
    finally:
        k.close()
    wait_for(socket.exists, 60, "the standby after the kernel")

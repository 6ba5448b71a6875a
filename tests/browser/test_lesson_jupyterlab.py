"""The lesson as a learner sees it: JupyterLab in headless Chromium, Restart Kernel and Run All.

Starts a real JupyterLab (the `rust-orm` kernelspec that tests/e2e.sh installs into this build's
Jupyter folder), opens a copy of notebooks/lesson.ipynb with `lesson_in_jupyterlab.mjs`
(playwright-core driving Debian's chromium), and checks what the page shows: every code cell ran,
no error output, every result table rendered as an HTML <table>. The screenshot of the whole
notebook is saved under the build folder ($CARGO_TARGET_DIR/browser/), and its path printed.
Needs `bash tests/setup.sh` (chromium, node_modules in tests/browser/); fails when they are missing.
"""
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: Debian's chromium, found on PATH (or $CHROMIUM); handed to the node script the same way.
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "chromium"
#: Seconds for the whole notebook to run (a kernel start, a restart and 46 cells on a warm cache).
RUN_TIMEOUT = int(os.environ.get("ORM_BROWSER_TIMEOUT", "900"))
#: A comfy-table rule line as the lesson's tables print in text/plain (`|-------|-----|`).
TABLE_RULE = re.compile(r"^\|[-|]+\|$", re.MULTILINE)


def artifacts_dir():
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    path = Path(target) / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on a copy of the lesson; yields (base URL, token)."""
    for need, what in [(CHROMIUM, "Debian's chromium"),
                       (HERE / "node_modules" / "playwright-core", "playwright-core")]:
        assert Path(need).exists(), f"{what} is missing at {need}: run bash tests/setup.sh"
    work = tmp_path_factory.mktemp("jupyterlab")
    root_dir = work / "notebooks"
    root_dir.mkdir()
    shutil.copy(ROOT / "notebooks" / "lesson.ipynb", root_dir / "lesson.ipynb")
    # Every cell in the page (JupyterLab 4 renders only the cells in view by default).
    settings = work / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / "config"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"))
    log = open(work / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.root_dir={root_dir}", f"--IdentityProvider.token={token}",
         "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={work / 'settings'}",
         f"--LabApp.workspaces_dir={work / 'workspaces'}"]
        # CI runs as root.
        + (["--allow-root"] if os.geteuid() == 0 else []),
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}api/status?token={token}", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, (work / "jupyterlab.log").read_text()
                assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def page_report(jupyterlab):
    base, token = jupyterlab
    out = artifacts_dir()
    report_path, screenshot = out / "lesson-jupyterlab.json", out / "lesson-jupyterlab.png"
    for stale in (report_path, screenshot):
        stale.unlink(missing_ok=True)
    subprocess.run(
        ["node", str(HERE / "lesson_in_jupyterlab.mjs"), f"{base}lab/tree/lesson.ipynb?token={token}",
         str(report_path), str(screenshot), str(RUN_TIMEOUT)],
        check=True, timeout=RUN_TIMEOUT + 300, env=dict(os.environ, CHROMIUM=CHROMIUM))
    print(f"\nscreenshot of the lesson in JupyterLab: {screenshot}")
    return json.loads(report_path.read_text()), screenshot


def test_every_code_cell_ran_and_the_kernel_is_idle(page_report):
    report, _ = page_report
    cells = report["cells"]
    assert len(cells) >= 40, f"the lesson's code cells were not all in the page: {len(cells)}"
    not_run = [c["index"] for c in cells if c["execution_count"] is None]
    assert not_run == [], f"cells without an execution count: {not_run}"
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"not run once each, in order: {counts}"
    assert report["kernel_status"] == "idle"


def test_no_cell_shows_an_error(page_report):
    report, _ = page_report
    errors = [(c["index"], o["ename"], o["evalue"]) for c in report["cells"]
              for o in c["outputs"] if o["output_type"] == "error"]
    assert errors == []


def test_every_result_table_renders_as_an_html_table(page_report):
    report, _ = page_report
    with_tables = [c for c in report["cells"]
                   if any(TABLE_RULE.search(o["text_plain"]) for o in c["outputs"])]
    # The lesson's ten tables (#21): each cell showing one in text has one as HTML in the page.
    assert len(with_tables) >= 10, [c["source"].splitlines()[-1] for c in with_tables]
    plain = [(c["index"], c["source"].splitlines()[-1]) for c in with_tables if c["html_tables"] == 0]
    assert plain == [], f"result tables shown as plain text, not as an HTML <table>: {plain}"


def test_the_screenshot_is_a_png_of_the_whole_notebook(page_report):
    _, screenshot = page_report
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1280 and height > 2000, (width, height)

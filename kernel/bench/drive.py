"""Runs a notebook's code cells through one Jupyter kernel, cell by cell, and times them.

    python drive.py --kernel NAME --notebook PATH --cwd DIR [--setup CODE] --out RESULT.json

The kernel is started with jupyter_client (from its installed kernelspec); each cell is sent as
an execute_request with stop_on_error off, so every cell runs even after a failure, and timed
from the request to its execute_reply. A cell failed if its reply says so, or if it showed an
`error` output, or printed a Rust panic on stderr (evcxr reports panics as success).
`--setup` is sent first as a cell of its own (evcxr_jupyter's `:dep` line), timed apart.
`--restart` then restarts the kernel as Jupyter does (`KernelManager.restart_kernel`: a
shutdown_request with `restart: true`, a new kernel process on the same ports) and times the
first result after it: the setup cell again, then the notebook's first code cell.
"""
import argparse
import json
import os
import queue
import sys
import time

import nbformat
from jupyter_client.manager import KernelManager

TIMEOUT = float(os.environ.get("KERNEL_BENCH_CELL_TIMEOUT", "900"))


def run_cell(client, code):
    """Sends one cell; returns (seconds, ok, short reason, outputs as text)."""
    started = time.monotonic()
    msg_id = client.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)
    while True:
        remaining = TIMEOUT - (time.monotonic() - started)
        if remaining <= 0:
            raise TimeoutError(f"no execute_reply within {TIMEOUT:.0f} s")
        reply = client.get_shell_msg(timeout=remaining)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    seconds = time.monotonic() - started
    ok = reply["content"].get("status") == "ok"
    reason = "" if ok else reply["content"].get("ename", reply["content"].get("status", ""))
    text = []
    # Outputs of this cell: iopub until its idle status.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            msg = client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content.get("execution_state") == "idle":
            break
        if kind == "stream":
            text.append(content["text"])
            if content["name"] == "stderr" and "panicked at" in content["text"]:
                ok, reason = False, reason or "panic"
        elif kind == "error":
            ok = False
            reason = reason or content.get("ename", "error")
            text.append(f"{content.get('ename')}: {content.get('evalue')}\n")
            text.extend(line + "\n" for line in content.get("traceback", []))
        elif kind in ("execute_result", "display_data"):
            text.append(content["data"].get("text/plain", "") + "\n")
    return seconds, ok, reason, "".join(text)


def restart_and_time(manager, client, first_cell, setup):
    """Restarts the kernel; returns the seconds from the restart to the first cell's result."""
    started = time.monotonic()
    manager.restart_kernel(now=False)
    client.wait_for_ready(timeout=TIMEOUT)
    ready = time.monotonic() - started
    setup_seconds = 0.0
    if setup is not None:
        setup_seconds, ok, reason, text = run_cell(client, setup)
        if not ok:
            raise RuntimeError(f"the setup cell failed after the restart: {reason}\n{text}")
    seconds, ok, reason, text = run_cell(client, first_cell)
    if not ok:
        raise RuntimeError(f"the first cell failed after the restart: {reason}\n{text}")
    first = time.monotonic() - started
    print(f"  after the restart: first result in {first:.2f} s", file=sys.stderr, flush=True)
    return {"ready_seconds": ready, "setup_seconds": setup_seconds, "cell_seconds": seconds,
            "first_result_seconds": first}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--notebook", required=True)
    parser.add_argument("--cwd", required=True)
    parser.add_argument("--setup", default=None)
    parser.add_argument("--out", required=True)
    parser.add_argument("--stderr", default=None, help="where the kernel's stderr goes")
    parser.add_argument("--restart", action="store_true",
                        help="after the notebook, restart the kernel and time its first result")
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]

    manager = KernelManager(kernel_name=args.kernel)
    started = time.monotonic()
    stderr = open(args.stderr, "w") if args.stderr else None
    manager.start_kernel(cwd=args.cwd, stderr=stderr)
    client = manager.client()
    client.start_channels()
    result = {"kernel": args.kernel, "cells": []}
    try:
        client.wait_for_ready(timeout=TIMEOUT)
        result["ready_seconds"] = time.monotonic() - started
        if args.setup is not None:
            seconds, ok, reason, text = run_cell(client, args.setup)
            result["setup"] = {"seconds": seconds, "ok": ok, "reason": reason, "text": text}
        for index, code in enumerate(cells, 1):
            seconds, ok, reason, text = run_cell(client, code)
            if index == 1:
                result["first_result_seconds"] = time.monotonic() - started
            result["cells"].append(
                {"index": index, "seconds": seconds, "ok": ok, "reason": reason,
                 "first_line": code.strip().splitlines()[0] if code.strip() else "",
                 "text": text[-2000:]})
            print(f"  cell {index}/{len(cells)}: {'ok' if ok else 'FAILED ' + reason} ({seconds:.2f} s)",
                  file=sys.stderr, flush=True)
        result["total_seconds"] = time.monotonic() - started
        if args.restart:
            try:
                result["restart"] = restart_and_time(manager, client, cells[0], args.setup)
            except (RuntimeError, TimeoutError) as error:
                # Kept as a result: the report shows the restart failed, and why.
                result["restart"] = {"error": str(error).splitlines()[0]}
                print(f"  the restart failed: {error}", file=sys.stderr, flush=True)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)
        if stderr:
            stderr.close()
    with open(args.out, "w") as out:
        json.dump(result, out, indent=1)


if __name__ == "__main__":
    main()

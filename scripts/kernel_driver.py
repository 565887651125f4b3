"""Runs cells one by one in a fresh tslab kernel, for the tests and `npm run bench -- --reruns`.

Reads {"cells": [...], "cwd": ..., "interrupt": {"cell": i, "when": "text"}} on
stdin. With "interrupt", the kernel is interrupted (as JupyterLab's stop
button does) once cell i has shown output containing "when". Prints a JSON
list: per cell, its reply status and its outputs as text, including updates
to its displays that arrive while later cells run.
"""
import json
import subprocess
import sys
import time

from jupyter_client.manager import start_new_kernel


def output_text(msg):
    """A message's output as text, or None for messages that are not outputs."""
    kind, content = msg["msg_type"], msg["content"]
    if kind == "stream":
        return content["text"]
    if kind in ("display_data", "update_display_data", "execute_result"):
        return content["data"].get("text/plain", "")
    if kind == "error":
        return f"ERROR {content['ename']}: {content['evalue']}"
    return None


def run_cell(km, kc, code, late, interrupt_when=None):
    """Runs one cell; outputs that arrive for earlier cells (a display updated in place) go to `late`."""
    msg_id = kc.execute(code)
    outputs, interrupted = [], False
    while True:
        msg = kc.get_iopub_msg(timeout=600)
        parent = msg["parent_header"].get("msg_id")
        text = output_text(msg)
        if parent != msg_id:
            if parent in late and text is not None:
                late[parent].append(text)
            continue
        if text is not None:
            outputs.append(text)
            if interrupt_when and not interrupted and interrupt_when in text:
                km.interrupt_kernel()
                interrupted = True
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    late[msg_id] = outputs
    while True:
        reply = kc.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            if reply["content"]["status"] == "error":
                time.sleep(0.5)  # tslab drops requests arriving within 200 ms of a failed cell, as a user's next click would not
            return msg_id, {"status": reply["content"]["status"], "outputs": outputs, "interrupted": interrupted}


def main():
    spec = json.load(sys.stdin)
    # The kernel's stdout is not ours: its first cell makes a pipe it shares non-blocking,
    # and a long print of this process's would then be cut. (Its outputs come over zeromq.)
    # jupyter_client's 60 s for the kernel's first answer is short on a busy machine: three minutes.
    km, kc = start_new_kernel(kernel_name="tslab", cwd=spec["cwd"], stdout=subprocess.DEVNULL, startup_timeout=180)
    try:
        interrupt = spec.get("interrupt") or {}
        late = {}
        results = [
            run_cell(km, kc, code, late, interrupt.get("when") if interrupt.get("cell") == i else None)[1]
            for i, code in enumerate(spec["cells"])
        ]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

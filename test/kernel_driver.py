"""Runs cells one by one in a fresh tslab kernel, for the tests.

Reads {"cells": [...], "cwd": ..., "interrupt": {"cell": i, "when": "text"}} on
stdin. With "interrupt", the kernel is interrupted (as JupyterLab's stop
button does) once cell i has shown output containing "when". Prints a JSON
list: per cell, its reply status and its outputs as text.
"""
import json
import sys
import time

from jupyter_client.manager import start_new_kernel


def run_cell(km, kc, code, interrupt_when=None):
    msg_id = kc.execute(code)
    outputs, interrupted = [], False
    while True:
        msg = kc.get_iopub_msg(timeout=600)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            outputs.append(content["text"])
        elif kind in ("display_data", "update_display_data", "execute_result"):
            text = content["data"].get("text/plain", "")
            outputs.append(text)
            if interrupt_when and not interrupted and interrupt_when in text:
                km.interrupt_kernel()
                interrupted = True
        elif kind == "error":
            outputs.append(f"ERROR {content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            break
    while True:
        reply = kc.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            if reply["content"]["status"] == "error":
                time.sleep(0.5)  # tslab drops requests arriving within 200 ms of a failed cell, as a user's next click would not
            return {"status": reply["content"]["status"], "outputs": outputs, "interrupted": interrupted}


def main():
    spec = json.load(sys.stdin)
    km, kc = start_new_kernel(kernel_name="tslab", cwd=spec["cwd"])
    try:
        interrupt = spec.get("interrupt") or {}
        results = [
            run_cell(km, kc, code, interrupt.get("when") if interrupt.get("cell") == i else None)
            for i, code in enumerate(spec["cells"])
        ]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

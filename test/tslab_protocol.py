"""Talks Jupyter's protocol to the tslab kernel with jupyter_client, for the tests.

Reads {"requests": [{"code": ..., "stop_on_error": bool}, ...], "cwd": ...} on
stdin and sends every request at once, without waiting for replies (as
nbclient and JupyterLab's "Run All" queue cells). Prints a JSON list: per
request, its execute_reply content and the iopub messages it caused.
"""
import json
import sys

from jupyter_client.manager import start_new_kernel


def main():
    spec = json.load(sys.stdin)
    km, kc = start_new_kernel(kernel_name="tslab", cwd=spec["cwd"])
    try:
        ids = [kc.execute(r["code"], stop_on_error=r.get("stop_on_error", True)) for r in spec["requests"]]
        replies, iopub, idle = {}, {i: [] for i in ids}, set()
        while not set(ids) <= set(replies):
            reply = kc.get_shell_msg(timeout=120)
            replies[reply["parent_header"].get("msg_id")] = reply["content"]
        while idle != set(ids):
            msg = kc.get_iopub_msg(timeout=30)
            parent = msg["parent_header"].get("msg_id")
            if parent not in iopub:
                continue
            if msg["msg_type"] == "status":
                if msg["content"]["execution_state"] == "idle":
                    idle.add(parent)
                continue
            iopub[parent].append({"msg_type": msg["msg_type"], "content": msg["content"]})
        print(json.dumps([{"reply": replies[i], "iopub": iopub[i]} for i in ids]))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()

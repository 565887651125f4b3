"""Talks Jupyter's protocol to the tslab kernel with jupyter_client, for the tests.

Reads {"requests": [{"code": ..., "stop_on_error": bool}, ...], "cwd": ...,
"stuck_subscriber": optional} on stdin and sends every request at once, without
waiting for replies (as nbclient and JupyterLab's "Run All" queue cells).

Prints a JSON object: "cells", per request its execute_reply content (null if
none came), the iopub messages it caused and whether its idle status came;
"log", what the kernel wrote to its own stderr. It waits for every reply and
idle status until `deadline` seconds have passed: the deadline only ends a hung
kernel; the test judges what arrived.

With "stuck_subscriber": {"release_on_log": text}, a second subscriber that
never reads is connected to IOPub, as a client that stopped reading would be;
it is closed once the kernel's log contains that text (or at the deadline).
"""
import json
import sys
import tempfile
import time

import zmq
from jupyter_client.manager import start_new_kernel


def main():
    spec = json.load(sys.stdin)
    deadline = time.monotonic() + spec.get("deadline", 240)
    log = tempfile.TemporaryFile(mode="w+")
    # The kernel's stdout and stderr are not ours: its first cell makes a pipe it shares
    # non-blocking, and a long print of this process's would then be cut.
    # A kernel's first start on a busy machine has taken over jupyter_client's 60 s to answer (seen once in a full run).
    km, kc = start_new_kernel(kernel_name="tslab", cwd=spec["cwd"], stdout=log, stderr=log, startup_timeout=180)
    stuck = None
    stuck_spec = spec.get("stuck_subscriber")
    if stuck_spec:
        # Small buffers everywhere, so the kernel meets the high-water mark soon.
        stuck = zmq.Context.instance().socket(zmq.SUB)
        stuck.setsockopt(zmq.RCVHWM, 1)
        stuck.setsockopt(zmq.RCVBUF, 4096)
        stuck.setsockopt(zmq.LINGER, 0)
        stuck.setsockopt(zmq.SUBSCRIBE, b"")
        stuck.connect(kc._make_url("iopub"))
        time.sleep(0.5)  # subscribed before the first output

    def kernel_log():
        log.seek(0)
        return log.read()

    try:
        ids = [kc.execute(r["code"], stop_on_error=r.get("stop_on_error", True)) for r in spec["requests"]]
        replies, iopub, idle = {}, {i: [] for i in ids}, set()
        while (not set(ids) <= set(replies) or idle != set(ids)) and time.monotonic() < deadline:
            if stuck is not None and stuck_spec["release_on_log"] in kernel_log():
                stuck.close()
                stuck = None
            for msg in drain(kc.shell_channel, 0):
                if msg["msg_type"] == "execute_reply":
                    replies[msg["parent_header"].get("msg_id")] = msg["content"]
            for msg in drain(kc.iopub_channel, 0.2):
                parent = msg["parent_header"].get("msg_id")
                if parent not in iopub:
                    continue
                if msg["msg_type"] == "status":
                    if msg["content"]["execution_state"] == "idle":
                        idle.add(parent)
                    continue
                iopub[parent].append({"msg_type": msg["msg_type"], "content": msg["content"]})
        cells = [{"reply": replies.get(i), "iopub": iopub[i], "idle": i in idle} for i in ids]
        print(json.dumps({"cells": cells, "log": kernel_log()}))
    finally:
        if stuck is not None:
            stuck.close()
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def drain(channel, timeout):
    """Every message waiting on a channel, waiting up to `timeout` seconds for the first."""
    messages = []
    while channel.msg_ready() or (not messages and timeout and channel.socket.poll(timeout * 1000)):
        messages.append(channel.get_msg(timeout=1))
    return messages


if __name__ == "__main__":
    main()

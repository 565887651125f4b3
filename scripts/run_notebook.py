"""Executes a TypeScript notebook headless with nbclient and the tslab kernel.

Used by `npm start` (through scripts/start.mjs) and by the tests. Like
papermill, it injects parameter values in a new cell right after the cell
tagged `parameters`. While the notebook runs, its text outputs (including
the training progress, redrawn in place) are relayed to the terminal. The
executed notebook and its hand-in HTML export (python/) are written atomically
at the end; a failed or interrupted run leaves the previous outputs untouched
and writes what it has to `<name>.failed.ipynb` instead.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from deep_convolution_pdf import HandInHTMLExporter

RELAYED_IMAGE_TYPES = ("application/vnd.plotly.v1+json", "image/png")
# Set by src/notebook/display.ts on progress outputs (the keys are src/core/metadata.ts's): how many of
# their lines are finished, and the kernel chosen for each op and shape.
PROGRESS_METADATA = "deep_convolution/progress"
KERNELS_METADATA = "deep_convolution/kernels"


def ts_literal(value):
    """A parameter value as TypeScript source (JSON literals are valid TypeScript)."""
    return json.dumps(value)


def inject_parameters(nb, parameters):
    if not parameters:
        return
    index = next(
        (i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])),
        None,
    )
    if index is None:
        sys.exit("run_notebook: the notebook has no cell tagged 'parameters' to override.")
    lines = ["// Parameters injected by npm start"]
    lines += [f"const {name} = {ts_literal(value)};" for name, value in parameters.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, cell)


def record_kernels(nb):
    """Copies the kernel choices the fits reported into the notebook's metadata, once per op and shape."""
    choices = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for choice in (output.get("metadata") or {}).get(KERNELS_METADATA, []):
                choices.setdefault(f"{choice['op']} {choice['shape']}", choice)
    if choices:
        nb.metadata.setdefault("deep_convolution", {})["kernels"] = list(choices.values())


def write_atomic(path, text):
    umask = os.umask(0)
    os.umask(umask)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would hide the files from other users
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


class RelayingClient(NotebookClient):
    """Prints each text output as it arrives; progress displays are redrawn in place."""

    def __init__(self, *args, relay=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.relay = relay
        self._live = {}  # display_id -> lines already printed
        self._charts = set()  # display_ids of charts redrawn in place

    def _print_live(self, display_id, text, progress):
        lines = text.split("\n")
        finished = progress.get("finished", len(lines)) if progress else len(lines)
        running = "\n".join(lines[finished:]) or None
        lines = lines[:finished]
        printed = self._live.get(display_id, 0)
        tty = sys.stdout.isatty()
        for line in lines[printed:]:
            sys.stdout.write(("\r\x1b[K" if tty else "") + line + "\n")
        self._live[display_id] = len(lines)
        if running is not None and tty:
            sys.stdout.write("\r\x1b[K" + running)
        sys.stdout.flush()

    def process_message(self, msg, cell, cell_index):
        if self.relay:
            self._relay(msg)
        return super().process_message(msg, cell, cell_index)

    def _relay(self, msg):
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            stream = sys.stderr if content.get("name") == "stderr" else sys.stdout
            stream.write(content.get("text", ""))
            stream.flush()
        elif kind in ("display_data", "update_display_data", "execute_result"):
            data = content.get("data", {})
            display_id = (content.get("transient") or {}).get("display_id")
            text = data.get("text/plain", "")
            chart = any(t in data for t in RELAYED_IMAGE_TYPES)
            if display_id and chart:
                self._charts.add(display_id)
            if display_id in self._charts:
                if "image/png" in data:  # a live chart's title once, with its last frame (the one with an image)
                    print(text, flush=True)
            elif display_id:
                self._print_live(display_id, text, (content.get("metadata") or {}).get(PROGRESS_METADATA))
            elif text:
                print(text, flush=True)
        elif kind == "error":
            print("\n".join(content.get("traceback", [])) or content.get("evalue", ""), file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebook")
    parser.add_argument("output", help="where the executed notebook goes")
    parser.add_argument("--html", help="also export the executed notebook to this HTML file")
    parser.add_argument("--parameters", default="{}", help="JSON object of parameter values to inject")
    parser.add_argument("--kernel", default="tslab")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: none)")
    parser.add_argument("--quiet", action="store_true", help="do not relay outputs to the terminal")
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    inject_parameters(nb, json.loads(args.parameters))
    client = RelayingClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
        relay=not args.quiet,
    )
    failed = args.output[: -len(".ipynb")] + ".failed.ipynb" if args.output.endswith(".ipynb") else args.output + ".failed"
    try:
        # The kernel's stdout is not ours: its first cell makes a pipe it shares non-blocking,
        # and the relay's long writes were then cut. (Its outputs come over zeromq.)
        client.execute(stdout=subprocess.DEVNULL)
    except (CellExecutionError, KeyboardInterrupt) as error:
        write_atomic(failed, nbformat.writes(nb))
        reason = "interrupted" if isinstance(error, KeyboardInterrupt) else "a cell failed"
        print(f"\nThe notebook did not finish ({reason}). What ran is in {failed}; "
              f"earlier outputs were left as they were.", file=sys.stderr)
        sys.exit(130 if isinstance(error, KeyboardInterrupt) else 1)
    record_kernels(nb)
    write_atomic(args.output, nbformat.writes(nb))
    if args.html:
        name = os.path.splitext(os.path.basename(args.notebook))[0]
        html, _ = HandInHTMLExporter().from_notebook_node(nb, resources={"metadata": {"name": name}})
        write_atomic(args.html, html)
    if os.path.exists(failed):
        os.unlink(failed)


if __name__ == "__main__":
    main()

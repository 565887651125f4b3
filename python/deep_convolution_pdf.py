"""An nbconvert exporter that prints a notebook to PDF like `npm run pdf`.

nbconvert's own WebPDF needs Playwright's downloaded browser and LaTeX PDF
needs TeX; neither exists on a machine set up by `npm install`. This exporter
takes nbconvert's HTML (the same "lab" template `npm start` uses) and hands it
to scripts/pdf.mjs, which prints it with the Chromium that draws the charts.
It appears in JupyterLab as File → Save and Export Notebook As → PDF_Chromium,
and on the command line as `jupyter nbconvert --to PDF_Chromium FILE.ipynb`.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from nbconvert.exporters import HTMLExporter
from traitlets import Unicode, default

# Installed editable, so this file stays in the project's python/ folder.
PROJECT = Path(__file__).resolve().parent.parent


class ChromiumPDFExporter(HTMLExporter):
    """HTML export printed to PDF by the project's Chromium (scripts/pdf.mjs)."""

    export_from_notebook = "PDF (Chromium, as npm run pdf)"

    paper = Unicode("A4", help="Paper size: A4 or Letter.").tag(config=True)

    @default("file_extension")
    def _file_extension_default(self):
        return ".pdf"

    @default("template_extension")
    def _template_extension_default(self):
        return ".html.j2"  # the HTML templates, though the file written is .pdf

    @default("template_name")
    def _template_name_default(self):
        return "lab"

    def from_notebook_node(self, nb, resources=None, **kw):
        html, resources = super().from_notebook_node(nb, resources=resources, **kw)
        node = os.environ.get("NODE") or shutil.which("node")
        if node is None:
            raise RuntimeError("Node.js was not found on PATH: start JupyterLab with `npm run lab`, or set NODE to node's path.")
        name = (resources.get("metadata") or {}).get("name") or "notebook"
        with tempfile.TemporaryDirectory(prefix="notebook-pdf-") as folder:
            source, target = Path(folder, "notebook.html"), Path(folder, "notebook.pdf")
            source.write_text(html, encoding="utf-8")
            printed = subprocess.run(
                [node, str(PROJECT / "scripts" / "pdf.mjs"), str(source), "-o", str(target),
                 "--paper", self.paper, "--title", f"{name}.ipynb"],
                cwd=PROJECT, capture_output=True, text=True, check=False,
            )
            if printed.returncode != 0:
                raise RuntimeError(f"Printing the PDF failed: {printed.stderr.strip() or printed.stdout.strip()}")
            return target.read_bytes(), resources

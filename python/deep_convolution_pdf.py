"""The notebook as handed in: HTML and a PDF printed like `npm run pdf`.

HandInHTMLExporter is nbconvert's "lab" HTML with what a hand-in needs: the
notebook's own title (not "Notebook") and authors (its metadata's, else the
names in its Group cell), and a text alternative on
every image, saying what it shows. `npm start`, `npm run pdf` and the PDF
exporter below all export through it.

nbconvert's own WebPDF needs Playwright's downloaded browser and LaTeX PDF
needs TeX; neither exists on a machine set up by `npm install`. The PDF
exporter takes the hand-in HTML and hands it to scripts/pdf.mjs, which prints
it with the Chromium that draws the charts. It appears in JupyterLab as
File → Save and Export Notebook As → PDF_Chromium, and on the command line as
`jupyter nbconvert --to PDF_Chromium FILE.ipynb`.
"""

import copy
import html
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from nbconvert.exporters import HTMLExporter
from nbformat import NotebookNode
from traitlets import Unicode, default

# Installed editable, so this file stays in the project's python/ folder.
PROJECT = Path(__file__).resolve().parent.parent

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# A member's line in the Group cell: "- @Name - e-mail, number" as the seed writes it, or "- Name, e-mail, number".
MEMBER = re.compile(r"^\s*(?:[-*+]\s+)?@?\s*(?P<name>[^,<>@]+?)\s*(?:\s[-–—]\s|,|<|$)")
# What the notebook's Group cell holds until the students write their names.
PLACEHOLDER_NAMES = {"name", "your name"}


def markdown_lines(nb):
    """Each markdown cell's lines that are not blank, stripped."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            yield [line.strip() for line in cell.source.splitlines() if line.strip()]


def notebook_title(nb, name=None):
    """The notebook's metadata title if set; else its first heading, with the heading
    right below it when that is one level deeper (a subtitle); else `name`."""
    title = nb.metadata.get("title")
    if title:
        return str(title)
    for lines in markdown_lines(nb):
        for i, line in enumerate(lines):
            heading = HEADING.match(line)
            if heading is None:
                continue
            below = HEADING.match(lines[i + 1]) if i + 1 < len(lines) else None
            if below is not None and len(below.group(1)) == len(heading.group(1)) + 1:
                return f"{plain(heading.group(2))}: {plain(below.group(2))}"
            return plain(heading.group(2))
    return name or "Notebook"


def group_authors(nb):
    """The notebook's metadata authors if set; else the names in its Group cell (the
    markdown cell headed "Group"), one member a line; the placeholder is no one."""
    given = nb.metadata.get("authors")
    if given:
        return list(given)
    for lines in markdown_lines(nb):
        heading = HEADING.match(lines[0]) if lines else None
        if heading is None or plain(heading.group(2)).lower() != "group":
            continue
        members = [MEMBER.match(line) for line in lines[1:] if re.match(r"^\s*([-*+]\s|@)", line)]
        names = [m.group("name").strip() for m in members if m is not None]
        return [{"name": name} for name in names if name and name.lower() not in PLACEHOLDER_NAMES]
    return []


def plain(markdown):
    """A heading's text without Markdown emphasis or code marks."""
    return re.sub(r"[*_`]", "", markdown).strip()


def image_alt(output, mime):
    """What an image output shows, for readers who cannot see it: the text the
    kernel gave it (metadata[mime]["alt"]), else its plain-text form."""
    given = (output.get("metadata", {}).get(mime) or {}).get("alt")
    if given:
        return str(given)
    text = output.get("data", {}).get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else str(text)
    text = re.sub(r"^<(.*)>$", r"\1", text.strip())  # "<Plotly figure: model accuracy>"
    return text or "an image output"


def with_alt(rendered, output, mime):
    """The rendered output with its image's alt text."""
    alt = html.escape(image_alt(output, mime), quote=True)
    return re.sub(r"<img(?![^>]*\balt=)", f'<img alt="{alt}"', str(rendered), count=1)


class HandInHTMLExporter(HTMLExporter):
    """nbconvert's "lab" HTML, titled, with its authors and every image described."""

    export_from_notebook = None  # JupyterLab's menu has nbconvert's HTML already

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self):
        return [str(PROJECT / "python" / "templates")]

    @default("template_name")
    def _template_name_default(self):
        return "hand_in"

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.register_filter("with_alt", with_alt)

    def from_notebook_node(self, nb, resources=None, **kw):
        name = ((resources or {}).get("metadata") or {}).get("name")
        # nbconvert copies the notebook deeply itself; the caller's is left as it was.
        titled = copy.copy(nb)
        titled.metadata = NotebookNode({**nb.metadata, "title": notebook_title(nb, name), "authors": group_authors(nb)})
        return super().from_notebook_node(titled, resources=resources, **kw)


class ChromiumPDFExporter(HandInHTMLExporter):
    """HTML export printed to PDF by the project's Chromium (scripts/pdf.mjs)."""

    export_from_notebook = "PDF (Chromium, as npm run pdf)"

    paper = Unicode("A4", help="Paper size: A4 or Letter.").tag(config=True)

    @default("file_extension")
    def _file_extension_default(self):
        return ".pdf"

    @default("template_extension")
    def _template_extension_default(self):
        return ".html.j2"  # the HTML templates, though the file written is .pdf

    def from_notebook_node(self, nb, resources=None, **kw):
        page, resources = super().from_notebook_node(nb, resources=resources, **kw)
        node = os.environ.get("NODE") or shutil.which("node")
        if node is None:
            raise RuntimeError("Node.js was not found on PATH: start JupyterLab with `npm run lab`, or set NODE to node's path.")
        name = (resources.get("metadata") or {}).get("name") or "notebook"
        with tempfile.TemporaryDirectory(prefix="notebook-pdf-") as folder:
            source, target = Path(folder, "notebook.html"), Path(folder, "notebook.pdf")
            source.write_text(page, encoding="utf-8")
            printed = subprocess.run(
                [node, str(PROJECT / "scripts" / "pdf.mjs"), str(source), "-o", str(target),
                 "--paper", self.paper, "--title", f"{name}.ipynb"],
                cwd=PROJECT, capture_output=True, text=True, check=False,
            )
            if printed.returncode != 0:
                raise RuntimeError(f"Printing the PDF failed: {printed.stderr.strip() or printed.stdout.strip()}")
            return target.read_bytes(), resources

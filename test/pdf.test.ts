import fs from "node:fs";
import path from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { bundledBrowserSupported } from "../src/browser/browser";
import { parsePaper, printPdf } from "../src/browser/pdf";
import { makeNotebook, run, scratchDir, venvPython } from "./helpers";
import { readPdf, readPdfStructure } from "./pdfRead";

/** A PNG of one colour, as a data URL (nbconvert embeds outputs' images this way). */
function pngDataUrl(width: number, height: number, rgb: [number, number, number]): string {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.set([...rgb, 255], i * 4);
  return `data:image/png;base64,${PNG.sync.write(png).toString("base64")}`;
}

// comparisonTable's columns: wider than A4 at the HTML export's font size
const COLUMNS = ["loss", "accuracy", "val_loss", "val_accuracy", "accuracy_gap", "loss_gap", "best_val_loss_epoch", "seconds_per_epoch", "test_loss", "test_accuracy"];

// A page like nbconvert's export: a heading, code, a CDN script an offline
// machine cannot fetch, and two images, the second placed so that it would
// straddle the first page break (A4's printable height is about 1,020 CSS px).
const HTML = `<!doctype html><html><head><title>t</title>
<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script></head><body>
<h2>Question 10</h2>
<pre>${"const history = await model.fit(data.xTrain, data.yTrain, { batchSize: 128, epochs: 6, validationSplit: 0.2, callbacks: [liveChart()] }); // a line longer than the page\n".repeat(3)}</pre>
<img src="${pngDataUrl(720, 420, [200, 30, 30])}">
<div style="height: 300px"></div>
<img src="${pngDataUrl(720, 420, [30, 30, 200])}">
<p>Question 15 answer</p>
<style>.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { white-space: nowrap; font-size: 13px; padding: 4px 8px; }</style>
<div class="jp-RenderedHTMLCommon" style="margin-left: 64px"><table class="dataframe"><thead><tr><th></th>${COLUMNS.map((c) => `<th>${c}</th>`).join("")}</tr></thead>
<tbody><tr><th>model_1</th>${COLUMNS.map((_, i) => `<td>0.98${i}</td>`).join("")}</tr></tbody></table></div>
</body></html>`;

describe("parsePaper", () => {
  it("reads A4 and Letter in any case and names them otherwise", () => {
    expect(parsePaper("a4")).toBe("A4");
    expect(parsePaper("LETTER")).toBe("Letter");
    expect(() => parsePaper("A5")).toThrow('Paper "A5" is not one of A4, Letter.');
  });
});

describe("printPdf", () => {
  it("prints A4 pages with the text, each image whole on one page, long lines wrapped, page numbers, without waiting for the network", async () => {
    const pages = await readPdf(await printPdf(HTML, { title: "deep-convolution.ipynb" }));
    expect(pages.length).toBe(2);
    for (const page of pages) {
      expect(page.width).toBeCloseTo(595.92, 0); // A4: 210 × 297 mm
      expect(page.height).toBeCloseTo(842.88, 0);
    }
    const text = pages.map((p) => p.text).join("\n");
    expect(text).toContain("Question 10");
    expect(text).toContain("Question 15 answer");
    expect(text).toContain("a line longer than the page"); // wrapped, not cut off at the right margin
    // Each image is drawn once: one cut across the break would be drawn on both pages.
    expect(pages.map((p) => p.images)).toEqual([1, 1]);
    expect(pages[0]!.text).toMatch(/deep-convolution\.ipynb/);
    expect(pages[1]!.text).toMatch(/2\s*\/\s*2/);
    // A table wider than the paper is fitted to it, every column on the page.
    for (const column of COLUMNS) expect(text.replace(/[\u200b\s]/g, "")).toContain(column);
    for (const page of pages) expect(page.textRight).toBeLessThanOrEqual(page.width - 20); // inside the 10 mm margin
  });

  it("prints a tagged PDF with the page's title and authors, bookmarks without nbconvert's ¶, code tagged as code and each image's alt text", async () => {
    // as nbconvert's hand-in HTML has them: headings with anchor links, code in a bare <pre>, images with alt text
    const heading = (level: number, text: string) => `<h${level} id="${text}">${text}<a class="anchor-link" href="#${text}">¶</a></h${level}>`;
    const page = `<!doctype html><html lang="en"><head><title>My Report: Deep Convolution</title>
      <meta name="author" content="Ada Lovelace"><meta name="author" content="Alan Turing"></head><body>
      ${heading(1, "My Report")}<p>Text.</p>
      ${heading(2, "A heading long enough to wrap across two lines of the printed page, which keeps its spaces")}
      <div class="jp-InputArea"><div class="highlight"><pre><span>const</span> x = 1;</pre></div></div>
      ${heading(3, "Question 10")}<img alt="model_1: training history; loss: loss against epoch (1 to 6)" src="${pngDataUrl(72, 42, [200, 30, 30])}">
      <table><tr><th>loss</th></tr><tr><td>0.03</td></tr></table>
      ${heading(4, "Beyond the original: where model 1 goes wrong")}<img alt="model_1: confusion matrix (test set)" src="${pngDataUrl(72, 42, [30, 30, 200])}">
      </body></html>`;
    const pdf = await readPdfStructure(await printPdf(page));
    expect(pdf).toMatchObject({ title: "My Report: Deep Convolution", author: "Ada Lovelace, Alan Turing", tagged: true });
    expect(pdf.outline).toEqual([
      "My Report",
      "  A heading long enough to wrap across two lines of the printed page, which keeps its spaces",
      "    Question 10",
      "      Beyond the original: where model 1 goes wrong",
    ]);
    for (const role of ["H1", "H3", "H4", "P", "Code", "Table", "TH", "TD", "Figure"]) expect(pdf.roles).toContain(role);
    expect(pdf.figures).toEqual([
      { page: 1, alt: "model_1: training history; loss: loss against epoch (1 to 6)" },
      { page: 1, alt: "model_1: confusion matrix (test set)" },
    ]);
    // without authors, the Author field is left out rather than empty
    expect((await readPdfStructure(await printPdf("<title>t</title><p>x</p>"))).author).toBeNull();
  });

  it("prints Letter when asked", async () => {
    const [page] = await readPdf(await printPdf("<p>Letter</p>", { paper: "Letter" }));
    expect(page!.width).toBeCloseTo(612, 0); // 8.5 × 11 in
    expect(page!.height).toBeCloseTo(792, 0);
    expect(page!.text).toContain("Letter");
  });

  it.runIf(bundledBrowserSupported())("prints with the bundled Chromium, even where a system browser exists", async () => {
    process.env["DEEPCONV_BROWSER"] = "bundled";
    try {
      const pages = await readPdf(await printPdf(HTML));
      expect(pages.map((p) => p.images)).toEqual([1, 1]);
      expect(pages[0]!.text).toContain("Question 10");
    } finally {
      delete process.env["DEEPCONV_BROWSER"];
    }
  });
});

describe("the hand-in HTML (python/deep_convolution_pdf.py)", () => {
  const exported = async (notebook: object, name = "report") => {
    const file = path.join(scratchDir("hand-in-html"), `${name}.ipynb`);
    fs.writeFileSync(file, JSON.stringify(notebook));
    const result = await run(venvPython, ["-m", "nbconvert", "--to", "deep_convolution_pdf.HandInHTMLExporter", "--stdout", "--log-level", "ERROR", file]);
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  };
  const titleOf = (html: string) => html.match(/<title>(.*)<\/title>/)![1];
  const withMarkdown = (...sources: string[]) => {
    const nb = makeNotebook([]);
    nb.cells = sources.map((source, i) => ({ cell_type: "markdown", id: `md-${i}`, source, metadata: {} }));
    return nb;
  };

  it("is titled by the notebook's metadata title, else its first heading and a subtitle right below it, else the file name", async () => {
    const titled = withMarkdown("# Heading");
    titled.metadata["title"] = "From the metadata";
    expect(titleOf(await exported(titled))).toBe("From the metadata");
    expect(titleOf(await exported(withMarkdown("Some text first.", "# Network Analysis — Group Assignment\n## Deep Convolution\n\nThe notebook.")))).toBe("Network Analysis — Group Assignment: Deep Convolution");
    expect(titleOf(await exported(withMarkdown("## *My* report\n\ntext\n### Part one")))).toBe("My report");
    expect(titleOf(await exported(withMarkdown("No heading at all."), "alice-week-3"))).toBe("alice-week-3");
  });

  it("names the notebook's authors in the head and gives every image an alt text: the one it carries, else its plain text", async () => {
    const nb = makeNotebook(["show()", "show()"]);
    nb.metadata["authors"] = [{ name: "Ada Lovelace" }, { name: "Alan Turing & co" }];
    const png = pngDataUrl(4, 4, [0, 0, 0]).split(",")[1];
    nb.cells[0]!.outputs = [{ output_type: "display_data", data: { "image/png": png, "text/plain": "<Plotly figure: model accuracy>" }, metadata: { "image/png": { width: 4, height: 4, alt: "model accuracy; accuracy: accuracy against epoch (1 to 6)" } } }];
    nb.cells[1]!.outputs = [{ output_type: "display_data", data: { "image/png": png, "text/plain": "<Plotly figure: LOSS>" }, metadata: {} }];
    const html = await exported(nb);
    // (nbconvert writes each tag's attributes in its own order)
    const attribute = (tag: string, name: string) => tag.match(new RegExp(`\\b${name}="([^"]*)"`))?.[1];
    const authors = (html.match(/<meta [^>]*>/g) ?? []).filter((tag) => attribute(tag, "name") === "author").map((tag) => attribute(tag, "content"));
    expect(authors).toEqual(["Ada Lovelace", "Alan Turing &amp; co"]);
    expect((html.match(/<img [^>]*>/g) ?? []).map((tag) => attribute(tag, "alt"))).toEqual(["model accuracy; accuracy: accuracy against epoch (1 to 6)", "Plotly figure: LOSS"]);
  });

  it("takes the authors from the Group cell, as the seed lists its members, when the metadata names none", async () => {
    const attribute = (tag: string, name: string) => tag.match(new RegExp(`\\b${name}="([^"]*)"`))?.[1];
    const authorsOf = (html: string) => (html.match(/<meta [^>]*>/g) ?? []).filter((tag) => attribute(tag, "name") === "author").map((tag) => attribute(tag, "content"));
    const group = (...members: string[]) => withMarkdown("# Network Analysis\n## Deep Convolution", ["### Group", "", "One line per member:", "", ...members].join("\n"), "### Data preparation\n\n- not a member");
    expect(authorsOf(await exported(group("- @ChenYu Wang - c.wang4@students.uu.nl, 6774326", "- Lena Walcher, l.t.walcher@students.uu.nl, 2818833")))).toEqual(["ChenYu Wang", "Lena Walcher"]);
    // the notebook's placeholder names no one; the metadata's authors come first
    expect(authorsOf(await exported(group("- Name - e-mail, student number")))).toEqual([]);
    const both = group("- Ada Lovelace - ada@example.org, 1");
    both.metadata["authors"] = [{ name: "Alan Turing" }];
    expect(authorsOf(await exported(both))).toEqual(["Alan Turing"]);
  });

  it("prints a PDF whose Author is the Group cell's members (File → Save and Export Notebook As → PDF_Chromium)", async () => {
    const nb = withMarkdown("# Network Analysis\n## Deep Convolution", "### Group\n\n- @ChenYu Wang - c.wang4@students.uu.nl, 6774326\n- @Lena Walcher - l.t.walcher@students.uu.nl, 2818833");
    const folder = scratchDir("group-pdf");
    const file = path.join(folder, "group.ipynb");
    fs.writeFileSync(file, JSON.stringify(nb));
    const result = await run(venvPython, ["-m", "nbconvert", "--to", "PDF_Chromium", "--log-level", "ERROR", file]);
    expect(result.status, result.stderr).toBe(0);
    const structure = await readPdfStructure(fs.readFileSync(path.join(folder, "group.pdf")));
    expect(structure.author).toBe("ChenYu Wang, Lena Walcher");
  }, 120_000);
});

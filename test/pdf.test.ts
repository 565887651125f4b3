import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { bundledBrowserSupported } from "../src/browser/browser";
import { parsePaper, printPdf } from "../src/browser/pdf";
import { readPdf } from "./pdfRead";

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

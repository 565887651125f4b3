/**
 * The PDF students hand in: an executed notebook's HTML export (nbconvert)
 * printed by the same Chromium that draws the charts (browser.ts), with a
 * print stylesheet that keeps images whole and long lines readable.
 */
import { chooseBrowser, launchBrowser } from "./browser";
import { writeFileAtomic } from "./files";

export type PaperFormat = "A4" | "Letter";
export const PAPER_FORMATS: readonly PaperFormat[] = ["A4", "Letter"];

/** Reads a paper name as users type it ("a4", "letter"); throws with the allowed names otherwise. */
export function parsePaper(value: string): PaperFormat {
  const found = PAPER_FORMATS.find((p) => p.toLowerCase() === value.toLowerCase());
  if (found === undefined) throw new Error(`Paper "${value}" is not one of ${PAPER_FORMATS.join(", ")}.`);
  return found;
}

// Why each rule: an image or a table row is never cut across pages; code and
// progress lines wrap instead of running off the page; wide outputs shrink
// rather than scroll (paper cannot scroll).
const PRINT_CSS = `
  html, body { background: white !important; }
  body { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  img, svg, tr, .jp-RenderedImage, .jp-InputArea, .jp-OutputArea-child { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  img { max-width: 100% !important; height: auto !important; }
  pre, code { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  .jp-OutputArea-output, .jp-RenderedHTMLCommon, .jp-Cell-outputArea { overflow: visible !important; }
  .jp-RenderedHTMLCommon table { font-size: 10px; }
`;

export interface PrintOptions {
  paper?: PaperFormat;
  /** Shown small in each page's footer beside the page number, e.g. the notebook's file name. */
  title?: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Prints `html` (a self-contained page: nbconvert embeds every image) to PDF
 * bytes. The page gets no network: nbconvert's HTML names a few CDN scripts
 * (RequireJS, MathJax) that an offline machine would otherwise wait for.
 */
export async function printPdf(html: string, options: PrintOptions = {}): Promise<Uint8Array> {
  const browser = await launchBrowser(await chooseBrowser());
  try {
    const context = await browser.newContext();
    await context.route(/^(https?|wss?|ftp):/, (route) => route.abort());
    const page = await context.newPage();
    await page.setContent(html, { waitUntil: "load", timeout: 60_000 });
    await page.addStyleTag({ content: PRINT_CSS });
    await page.emulateMedia({ media: "print" });
    // Every embedded image decoded before printing, so none prints blank.
    await page.evaluate(() => Promise.all(Array.from(document.images).map((img) => img.decode().catch(() => undefined))));
    const footer = `<div style="font-size:8px;width:100%;padding:0 10mm;display:flex;justify-content:space-between;color:#555">`
      + `<span>${escapeHtml(options.title ?? "")}</span><span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>`;
    const pdf = await page.pdf({
      format: options.paper ?? "A4",
      printBackground: true,
      margin: { top: "12mm", bottom: "14mm", left: "10mm", right: "10mm" },
      displayHeaderFooter: true,
      headerTemplate: "<span></span>",
      footerTemplate: footer,
    });
    return new Uint8Array(pdf);
  } finally {
    await browser.close();
  }
}

/** Prints `html` to `pdfFile`, which is replaced only once the PDF is complete. */
export async function writePdf(html: string, pdfFile: string, options: PrintOptions = {}): Promise<void> {
  writeFileAtomic(pdfFile, await printPdf(html, options));
}

/**
 * The PDF students hand in: an executed notebook's HTML export (nbconvert)
 * printed by the same Chromium that draws the charts (browser.ts), with a
 * print stylesheet that keeps images whole and long lines readable. It is
 * tagged (headings, paragraphs, tables, code, figures with their alt text),
 * its outline follows the headings, and it carries the page's title and authors.
 */
import { PDFDocument } from "pdf-lib";
import { chooseBrowser, describeBrowser, launchBrowser, type BrowserChoice } from "./browser";
import { escapeHtml } from "../core/html";
import { writeFileAtomic } from "../core/files";

export type PaperFormat = "A4" | "Letter";
export const PAPER_FORMATS: readonly PaperFormat[] = ["A4", "Letter"];
const PAPER_WIDTH_MM: Record<PaperFormat, number> = { A4: 210, Letter: 215.9 };
const MARGIN_MM = { top: 12, bottom: 14, left: 10, right: 10 };
const CSS_PX_PER_MM = 96 / 25.4;

/** Reads a paper name as users type it ("a4", "letter"); throws with the allowed names otherwise. */
export function parsePaper(value: string): PaperFormat {
  const found = PAPER_FORMATS.find((p) => p.toLowerCase() === value.toLowerCase());
  if (found === undefined) throw new Error(`Paper "${value}" is not one of ${PAPER_FORMATS.join(", ")}.`);
  return found;
}

// Why each rule: an image or a table row is never cut across pages; code and
// progress lines wrap instead of running off the page; wide outputs shrink
// rather than scroll (paper cannot scroll); a heading keeps the space where it
// wraps (Chromium builds each bookmark from the printed lines and drops it:
// "GroupAssignment").
const PRINT_CSS = `
  html, body { background: white !important; }
  body { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  img, svg, tr, .jp-RenderedImage, .jp-InputArea, .jp-OutputArea-child {
    break-inside: avoid; page-break-inside: avoid;
  }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  h1, h2, h3, h4, h5, h6 { white-space: pre-wrap; }
  img { max-width: 100% !important; height: auto !important; }
  pre, code { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  .jp-OutputArea-output, .jp-RenderedHTMLCommon, .jp-Cell-outputArea { overflow: visible !important; }
  .jp-RenderedHTMLCommon table { font-size: 10px; }
`;

export interface PrintOptions {
  paper?: PaperFormat;
  /** Shown small in each page's footer beside the page number, e.g. the notebook's file name. */
  title?: string;
  /** The browser to print with; default: chooseBrowser()'s. */
  browser?: BrowserChoice;
}

/**
 * Runs in the page. A table wider than the paper would be cut off (or make
 * Chromium shrink every page): column names may break after "_" (comparison
 * tables have names like best_val_loss_epoch), and a table still too wide is
 * scaled down to its container's width.
 */
function fitTablesToWidth(): void {
  for (const header of Array.from(document.querySelectorAll("thead th"))) {
    const walker = document.createTreeWalker(header, NodeFilter.SHOW_TEXT);
    const texts: Text[] = [];
    while (walker.nextNode()) texts.push(walker.currentNode as Text);
    for (const text of texts) {
      const parts = text.data.split(/(?<=_)/);
      if (parts.length < 2) continue;
      text.replaceWith(...parts.flatMap((part, i) => (i === 0 ? [part] : [document.createElement("wbr"), part])));
    }
    (header as HTMLElement).style.whiteSpace = "normal";
  }
  for (const table of Array.from(document.querySelectorAll("table"))) {
    const available = table.parentElement?.clientWidth ?? 0;
    if (available > 0 && table.scrollWidth > available)
      table.style.setProperty("zoom", String(available / table.scrollWidth));
  }
}

/**
 * Runs in the page: what the PDF's tags and outline read. nbconvert's "¶" link
 * beside each heading would end every bookmark, and its code is a bare <pre>,
 * which Chromium tags as a plain block; inside a <code> it is tagged as code.
 */
function prepareTags(): void {
  for (const link of Array.from(document.querySelectorAll("a.anchor-link"))) link.remove();
  for (const pre of Array.from(document.querySelectorAll(".jp-InputArea pre"))) {
    if (pre.querySelector("code") !== null) continue;
    const code = document.createElement("code");
    code.append(...Array.from(pre.childNodes));
    pre.append(code);
  }
}

/** The PDF with its Author field set (Chromium takes the Title from the page but knows no author). */
async function withAuthor(pdf: Uint8Array, author: string): Promise<Uint8Array> {
  const document = await PDFDocument.load(pdf, { updateMetadata: false });
  document.setAuthor(author);
  return document.save();
}

/**
 * Prints `html` (a self-contained page: nbconvert embeds every image) to PDF
 * bytes. The page gets no network: nbconvert's HTML names a few CDN scripts
 * (RequireJS, MathJax) that an offline machine would otherwise wait for.
 */
export async function printPdf(html: string, options: PrintOptions = {}): Promise<Uint8Array> {
  const browser = await launchBrowser(options.browser ?? (await chooseBrowser()));
  try {
    const paper = options.paper ?? "A4";
    // Laid out at the paper's printable width, so what is measured below is what prints.
    const printableWidth = Math.floor((PAPER_WIDTH_MM[paper] - MARGIN_MM.left - MARGIN_MM.right) * CSS_PX_PER_MM);
    const context = await browser.newContext({ viewport: { width: printableWidth, height: 1000 } });
    await context.route(/^(https?|wss?|ftp):/, (route) => route.abort());
    const page = await context.newPage();
    await page.setContent(html, { waitUntil: "load", timeout: 60_000 });
    await page.addStyleTag({ content: PRINT_CSS });
    await page.emulateMedia({ media: "print" });
    // Every embedded image decoded before printing, so none prints blank.
    await page.evaluate(() =>
      Promise.all(Array.from(document.images).map((img) => img.decode().catch(() => undefined))),
    );
    await page.evaluate(fitTablesToWidth);
    await page.evaluate(prepareTags);
    const authors = await page.evaluate(() =>
      Array.from(
        document.querySelectorAll('meta[name="author"]'),
        (meta) => meta.getAttribute("content")?.trim() ?? "",
      ),
    );
    const footer =
      `<div style="font-size:8px;width:100%;padding:0 10mm;display:flex;justify-content:space-between;color:#555">` +
      `<span>${escapeHtml(options.title ?? "")}</span><span><span class="pageNumber"></span> / <span ` +
      `class="totalPages"></span></span></div>`;
    const pdf = await page.pdf({
      format: paper,
      printBackground: true,
      margin: Object.fromEntries(Object.entries(MARGIN_MM).map(([side, mm]) => [side, `${mm}mm`])),
      displayHeaderFooter: true,
      headerTemplate: "<span></span>",
      footerTemplate: footer,
      tagged: true,
      outline: true,
    });
    const author = authors.filter(Boolean).join(", ");
    return author === "" ? new Uint8Array(pdf) : withAuthor(new Uint8Array(pdf), author);
  } finally {
    await browser.close();
  }
}

/**
 * Prints `html` to `pdfFile`, which is replaced only once the PDF is complete.
 * Returns which browser printed, for the user to read.
 */
export async function writePdf(html: string, pdfFile: string, options: PrintOptions = {}): Promise<string> {
  const browser = options.browser ?? (await chooseBrowser());
  writeFileAtomic(pdfFile, await printPdf(html, { ...options, browser }));
  return describeBrowser(browser);
}

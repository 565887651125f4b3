/** Reads a PDF the way the tests need it: each page's size, text and how many images it draws (pdfjs-dist, no system tool). */
import { getDocument, OPS } from "pdfjs-dist/legacy/build/pdf.mjs";
import type { TextItem } from "pdfjs-dist/types/src/display/api";

export interface PdfPage {
  width: number;
  height: number;
  text: string;
  /** Raster images drawn on the page (an image cut across two pages is drawn on both). */
  images: number;
  /** The right edge of the rightmost text, in points: past `width`, text is cut off. */
  textRight: number;
}

const IMAGE_OPS = new Set<number>([OPS.paintImageXObject, OPS.paintInlineImageXObject, OPS.paintImageXObjectRepeat]);

export async function readPdf(bytes: Uint8Array): Promise<PdfPage[]> {
  const doc = await getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, useSystemFonts: false }).promise;
  try {
    const pages: PdfPage[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const [, , width, height] = page.view as [number, number, number, number];
      const content = await page.getTextContent();
      const items = content.items.filter((item): item is TextItem => "str" in item);
      const text = items.map((item) => item.str + (item.hasEOL ? "\n" : "")).join("");
      const textRight = Math.max(0, ...items.filter((item) => item.str.trim() !== "").map((item) => item.transform[4] + item.width));
      const ops = await page.getOperatorList();
      pages.push({ width, height, text, textRight, images: ops.fnArray.filter((op) => IMAGE_OPS.has(op)).length });
    }
    return pages;
  } finally {
    await doc.destroy();
  }
}

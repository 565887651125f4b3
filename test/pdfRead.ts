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

export interface PdfStructure {
  title: string | null;
  author: string | null;
  /** Whether the PDF is tagged (MarkInfo.Marked), as pdfinfo's "Tagged: yes". */
  tagged: boolean;
  /** The outline (bookmarks), depth first, each title indented two spaces per level. */
  outline: string[];
  /** Every role in the structure tree (Document, H1, P, Table, Code, Figure...). */
  roles: Set<string>;
  /** Each Figure of the structure tree with its alt text, in page order. */
  figures: Array<{ page: number; alt: string | null }>;
}

interface StructNode {
  role?: string;
  alt?: string;
  children?: StructNode[];
}

/** What a PDF says about itself for accessibility and navigation: info, tags, outline, figures. */
export async function readPdfStructure(bytes: Uint8Array): Promise<PdfStructure> {
  const doc = await getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, useSystemFonts: false }).promise;
  try {
    const info = (await doc.getMetadata()).info as { Title?: string; Author?: string };
    const outline: string[] = [];
    const walkOutline = (items: Array<{ title: string; items: unknown[] }> | null, depth: number) => {
      for (const item of items ?? []) {
        outline.push(`${"  ".repeat(depth)}${item.title}`);
        walkOutline(item.items as typeof items, depth + 1);
      }
    };
    walkOutline(await doc.getOutline(), 0);
    const roles = new Set<string>();
    const figures: PdfStructure["figures"] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const walk = (node: StructNode | null) => {
        if (node === null) return;
        if (node.role) roles.add(node.role);
        if (node.role === "Figure") figures.push({ page: n, alt: node.alt ?? null });
        for (const child of node.children ?? []) walk(child);
      };
      walk((await (await doc.getPage(n)).getStructTree()) as StructNode | null);
    }
    return { title: info.Title ?? null, author: info.Author ?? null, tagged: (await doc.getMarkInfo())?.Marked === true, outline, roles, figures };
  } finally {
    await doc.destroy();
  }
}

/**
 * Static PNG images of Plotly figures, drawn by plotly.js in headless
 * Chromium (browser.ts chooses which). The image is what GitHub, nbconvert's
 * HTML, the PDF and untrusted notebooks show.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { chooseBrowser, describeBrowser, launchBrowser, NoBrowserError } from "./browser";
import type { Figure } from "../report/charts";

let session: Promise<{ close(): Promise<void>; page: Page; browserName: string }> | null = null;

async function openSession() {
  const choice = await chooseBrowser();
  const browser = await launchBrowser(choice);
  const page = await browser.newPage();
  await page.setContent("<!doctype html><html><body></body></html>");
  await page.addScriptTag({
    path: path.join(path.dirname(require.resolve("plotly.js-dist-min/package.json")), "plotly.min.js"),
  });
  return { close: () => browser.close(), page, browserName: describeBrowser(choice) };
}

export type RenderResult = { png: Uint8Array } | { png: null; reason: string };

/**
 * Draws `figure` at its layout size (×`scale` pixels) and returns PNG bytes, or
 * why it could not. Scale 1 by default: JupyterLab's Plotly renderer shows the
 * PNG at its pixel size until the pointer comes over it.
 */
export async function renderPng(figure: Figure, scale = 1): Promise<RenderResult> {
  session ??= openSession();
  let browserName = "the browser";
  try {
    const opened = await session;
    browserName = opened.browserName;
    const { page } = opened;
    const dataUrl = await page.evaluate(
      async ({ fig, scale }) => {
        const plotly = (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } })
          .Plotly;
        return plotly.toImage(fig, { format: "png", width: fig.layout.width, height: fig.layout.height, scale });
      },
      { fig: figure, scale },
    );
    return { png: new Uint8Array(Buffer.from(dataUrl.slice(dataUrl.indexOf(",") + 1), "base64")) };
  } catch (error) {
    session = null;
    if (error instanceof NoBrowserError)
      return {
        png: null,
        reason:
          `${error.message} Until then, charts are interactive only ` +
          "(no image for the PDF, HTML exports or untrusted notebooks).",
      };
    return {
      png: null,
      reason: `Drawing the chart's static image with ${browserName} failed: ${(error as Error).message.split("\n")[0]}`,
    };
  }
}

/** Closes the browser, if one was started; scripts call this so Node can exit. */
export async function closeRenderer(): Promise<void> {
  const current = session;
  session = null;
  if (current) await (await current.catch(() => null))?.close().catch(() => undefined);
}

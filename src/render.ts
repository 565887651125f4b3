/**
 * Static PNG images of Plotly figures, drawn by plotly.js in a local headless
 * Chrome or Chromium (driven by playwright-core; no browser is downloaded).
 * The image is what GitHub, nbconvert's HTML and untrusted notebooks show.
 */
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import type { Figure } from "./charts";

const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/snap/bin/chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
  "C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe",
];

/** The browser to draw with: $CHROME_PATH if set, else the first usual install found. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env, candidates = CANDIDATES): string | null {
  const chosen = env["CHROME_PATH"];
  if (chosen) return fs.existsSync(chosen) ? chosen : null;
  return candidates.find((c) => fs.existsSync(c)) ?? null;
}

export const NO_BROWSER_MESSAGE =
  "No Chrome or Chromium found, so charts are interactive only (no static image for GitHub, HTML exports "
  + "or untrusted notebooks). Install one (Debian/Ubuntu: sudo apt-get install chromium) or set CHROME_PATH.";

let session: Promise<{ browser: Browser; page: Page }> | null = null;

async function openSession(executablePath: string) {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // Chromium's sandbox refuses to start as root (containers, CI).
    chromiumSandbox: process.getuid?.() !== 0,
    timeout: 30_000,
    args: ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
  const page = await browser.newPage();
  await page.setContent("<!doctype html><html><body></body></html>");
  await page.addScriptTag({ path: path.join(path.dirname(require.resolve("plotly.js-dist-min/package.json")), "plotly.min.js") });
  return { browser, page };
}

export type RenderResult = { png: Uint8Array } | { png: null; reason: string };

/**
 * Draws `figure` at its layout size (×`scale` pixels) and returns PNG bytes, or
 * why it could not. Scale 1 by default: JupyterLab's Plotly renderer shows the
 * PNG at its pixel size until the pointer comes over it.
 */
export async function renderPng(figure: Figure, scale = 1): Promise<RenderResult> {
  const executablePath = findBrowser();
  if (executablePath === null) return { png: null, reason: NO_BROWSER_MESSAGE };
  try {
    session ??= openSession(executablePath);
    const { page } = await session;
    const dataUrl = await page.evaluate(
      async ({ fig, scale }) => {
        const plotly = (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly;
        return plotly.toImage(fig, { format: "png", width: fig.layout.width, height: fig.layout.height, scale });
      },
      { fig: figure, scale },
    );
    return { png: new Uint8Array(Buffer.from(dataUrl.slice(dataUrl.indexOf(",") + 1), "base64")) };
  } catch (error) {
    session = null;
    return { png: null, reason: `Drawing the chart's static image with ${executablePath} failed: ${(error as Error).message.split("\n")[0]}` };
  }
}

/** Closes the browser, if one was started; scripts call this so Node can exit. */
export async function closeRenderer(): Promise<void> {
  const current = session;
  session = null;
  if (current) await (await current).browser.close().catch(() => undefined);
}

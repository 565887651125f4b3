/**
 * The one Chromium that draws chart images and prints PDFs: a system Chrome,
 * Chromium or Edge when one is installed ($CHROME_PATH wins), otherwise the
 * Chromium that `npm install` brings inside the optional npm package
 * @sparticuz/chromium (Linux x64/arm64), so a machine without a browser still
 * gets every chart's image and the PDF. Nothing is downloaded at run time.
 */
import fs from "node:fs";
import path from "node:path";
import type { Browser } from "playwright-core";

/** Usual install locations on Linux, macOS and Windows: every Chrome and Chromium before any Edge. */
export const SYSTEM_BROWSERS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/snap/bin/chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
  "C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe",
  ...(process.env["LOCALAPPDATA"] ? [`${process.env["LOCALAPPDATA"]}\\Google\\Chrome\\Application\\chrome.exe`] : []),
  "/usr/bin/microsoft-edge",
  "/usr/bin/microsoft-edge-stable",
  "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
  "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
  "C:\\Program Files\\Microsoft\\Edge\\Application\\msedge.exe",
];

/** `DEEPCONV_BROWSER=bundled` skips the system browsers (tests use it to prove the bundled path). */
export type BrowserPreference = "any" | "bundled";

export interface BrowserChoice {
  executablePath: string;
  /** "system": an installed Chrome, Chromium or Edge; "bundled": the one from @sparticuz/chromium. */
  source: "system" | "bundled";
}

export class NoBrowserError extends Error {}

/** The system browser to use: $CHROME_PATH if set, else the first usual install found. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env, candidates = SYSTEM_BROWSERS): string | null {
  const chosen = env["CHROME_PATH"];
  if (chosen) return fs.existsSync(chosen) ? chosen : null;
  return candidates.find((c) => fs.existsSync(c)) ?? null;
}

/** Whether @sparticuz/chromium ships a binary for this machine (Linux x64 and arm64 only). */
export function bundledBrowserSupported(platform: string = process.platform, arch: string = process.arch): boolean {
  return platform === "linux" && (arch === "x64" || arch === "arm64");
}

/** Unpacks (once, into the temp folder) and returns the bundled Chromium, or null when it is not installed here. */
async function bundledBrowser(): Promise<string | null> {
  if (!bundledBrowserSupported()) return null;
  let bundled: { executablePath(): Promise<string> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    bundled = require("@sparticuz/chromium") as typeof bundled;
  } catch {
    return null; // an optional dependency: absent where npm skipped it
  }
  return bundled.executablePath();
}

/**
 * Chooses the browser: $CHROME_PATH, then a system Chrome, Chromium or Edge,
 * then the bundled Chromium. Throws NoBrowserError with what to do when there
 * is none.
 */
export async function chooseBrowser(env: NodeJS.ProcessEnv = process.env): Promise<BrowserChoice> {
  const preference = (env["DEEPCONV_BROWSER"] ?? "any") as BrowserPreference;
  const chromePath = env["CHROME_PATH"];
  if (preference !== "bundled") {
    if (chromePath && !fs.existsSync(chromePath)) {
      throw new NoBrowserError(
        `CHROME_PATH is set to ${chromePath}, which does not exist: point it at a Chrome, Chromium or Edge ` +
          `executable, or unset it.`,
      );
    }
    const system = findBrowser(env);
    if (system !== null) return { executablePath: system, source: "system" };
  }
  const bundled = await bundledBrowser();
  if (bundled !== null) return { executablePath: bundled, source: "bundled" };
  throw new NoBrowserError(
    bundledBrowserSupported()
      ? "No Chrome, Chromium or Edge found, and the bundled Chromium (@sparticuz/chromium) is not installed: " +
          "run npm install, or install Chrome or Chromium, or set CHROME_PATH."
      : "No Chrome, Chromium or Edge found (the bundled Chromium exists for Linux x64/arm64 only, " +
          `not ${process.platform} ${process.arch}): install Chrome or Edge, or set CHROME_PATH to one.`,
  );
}

/**
 * Launches `choice` headless. The bundled Chromium has no sandbox helper, and
 * where the system has no fontconfig set-up it uses the fonts it ships.
 */
export async function launchBrowser(choice: BrowserChoice): Promise<Browser> {
  const bundled = choice.source === "bundled";
  const env = { ...process.env } as Record<string, string>;
  if (bundled && !fs.existsSync("/etc/fonts/fonts.conf"))
    env["FONTCONFIG_PATH"] = path.join(path.dirname(choice.executablePath), "fonts");
  // loaded here, with the first chart or PDF: training never needs it (about 45 MB)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require("playwright-core") as typeof import("playwright-core");
  return chromium.launch({
    executablePath: choice.executablePath,
    headless: true,
    // Chromium's sandbox refuses to start as root (containers, CI); the bundled build has none.
    chromiumSandbox: !bundled && process.getuid?.() !== 0,
    timeout: 30_000,
    env,
    args: [
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}

/** A sentence naming the browser in use, for logs and the README's promise "which browser draws". */
export function describeBrowser(choice: BrowserChoice): string {
  return choice.source === "bundled" ? "the bundled Chromium (@sparticuz/chromium)" : choice.executablePath;
}

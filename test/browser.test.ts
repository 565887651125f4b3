import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bundledBrowserSupported, chooseBrowser, findBrowser, launchBrowser, NoBrowserError, SYSTEM_BROWSERS } from "../src/browser/browser";
import { tempDir } from "./helpers";

describe("findBrowser", () => {
  it("prefers CHROME_PATH, else the first usual install that exists", () => {
    const dir = tempDir("browser");
    const fake = path.join(dir, "chrome");
    fs.writeFileSync(fake, "");
    expect(findBrowser({ CHROME_PATH: fake })).toBe(fake);
    expect(findBrowser({ CHROME_PATH: path.join(dir, "missing") })).toBeNull();
    expect(findBrowser({}, [path.join(dir, "nope"), fake])).toBe(fake);
    expect(findBrowser({}, [path.join(dir, "nope")])).toBeNull();
  });

  it("knows Chrome, Chromium and Edge where Linux, macOS and Windows install them, Edge last", () => {
    expect(SYSTEM_BROWSERS).toEqual(expect.arrayContaining([
      "/usr/bin/chromium", "/usr/bin/google-chrome", "/usr/bin/microsoft-edge",
      "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
      "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
    ]));
    const isEdge = (p: string) => /edge/i.test(p);
    const firstEdge = SYSTEM_BROWSERS.findIndex(isEdge);
    expect(firstEdge).toBeGreaterThan(0);
    expect(SYSTEM_BROWSERS.slice(firstEdge).every(isEdge)).toBe(true);
  });
});

describe("chooseBrowser", () => {
  it("takes CHROME_PATH when it exists, and names it when it does not", async () => {
    const fake = path.join(tempDir("browser"), "chrome");
    fs.writeFileSync(fake, "");
    await expect(chooseBrowser({ CHROME_PATH: fake })).resolves.toEqual({ executablePath: fake, source: "system" });
    await expect(chooseBrowser({ CHROME_PATH: "/no/such/chrome" })).rejects.toThrow(NoBrowserError);
    await expect(chooseBrowser({ CHROME_PATH: "/no/such/chrome" })).rejects.toThrow(/CHROME_PATH is set to \/no\/such\/chrome, which does not exist/);
  });

  it("has a bundled Chromium for Linux x64 and arm64 only", () => {
    expect(bundledBrowserSupported("linux", "x64")).toBe(true);
    expect(bundledBrowserSupported("linux", "arm64")).toBe(true);
    expect(bundledBrowserSupported("darwin", "arm64")).toBe(false);
    expect(bundledBrowserSupported("win32", "x64")).toBe(false);
  });

  // A machine that once had chromium installed keeps it, so the bundled path is forced here.
  it.runIf(bundledBrowserSupported())("falls back to the bundled Chromium, which launches and renders", async () => {
    const choice = await chooseBrowser({ DEEPCONV_BROWSER: "bundled", CHROME_PATH: "/no/such/chrome" });
    expect(choice.source).toBe("bundled");
    expect(fs.statSync(choice.executablePath).mode & 0o111).not.toBe(0);
    const browser = await launchBrowser(choice);
    try {
      expect(Number(browser.version().split(".")[0])).toBeGreaterThanOrEqual(143);
      const page = await browser.newPage();
      await page.setContent("<p style='font: 20px sans-serif'>ok</p>");
      expect(await page.evaluate(() => document.querySelector("p")!.getBoundingClientRect().width)).toBeGreaterThan(10); // a font was found
    } finally {
      await browser.close();
    }
  });
});

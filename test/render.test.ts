import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { plotHistory } from "../src/charts";
import { closeRenderer, findBrowser, renderPng } from "../src/render";
import { tempDir } from "./helpers";

afterAll(() => closeRenderer());

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
});

describe("renderPng", () => {
  it("draws a figure as a PNG at its layout size", async () => {
    expect(findBrowser(), "no Chromium found: install it (README, Prerequisites)").not.toBeNull();
    const figure = plotHistory({ title: "model accuracy", yLabel: "accuracy", series: { accuracy: [0.9, 0.95, 0.99] } });
    const result = await renderPng(figure);
    expect(result.png).not.toBeNull();
    const png = Buffer.from(result.png!);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(png.readUInt32BE(16)).toBe(figure.layout.width);
    expect(png.readUInt32BE(20)).toBe(figure.layout.height);
    expect(png.length).toBeGreaterThan(10_000); // axes, title and a line, not a blank canvas
    const sharper = await renderPng(figure, 2);
    expect(Buffer.from(sharper.png!).readUInt32BE(16)).toBe(figure.layout.width * 2);
  });

  it("says why when there is no browser to draw with", async () => {
    const saved = process.env["CHROME_PATH"];
    process.env["CHROME_PATH"] = "/no/such/chrome";
    try {
      const result = await renderPng(plotHistory({ title: "t", yLabel: "y", series: { a: [1] } }));
      expect(result.png).toBeNull();
      expect("reason" in result && result.reason).toMatch(/No Chrome or Chromium found.*apt-get install chromium.*CHROME_PATH/);
    } finally {
      if (saved === undefined) delete process.env["CHROME_PATH"];
      else process.env["CHROME_PATH"] = saved;
    }
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { bundledBrowserSupported } from "../src/browser/browser";
import { plotHistory } from "../src/report/charts";
import { closeRenderer, renderPng } from "../src/browser/render";

/** Runs `body` with environment variables set, then restores them (and closes the browser they chose). */
async function withEnv(vars: Record<string, string>, body: () => Promise<void>) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    await body();
  } finally {
    await closeRenderer();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("renderPng", () => {
  afterEach(() => closeRenderer());

  async function drawsAtLayoutSize() {
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
  }

  it("draws a figure as a PNG at its layout size (a system browser if there is one, else the bundled one)", drawsAtLayoutSize);

  it.runIf(bundledBrowserSupported())("draws the same with the bundled Chromium, even where a system browser exists", () =>
    withEnv({ DEEPCONV_BROWSER: "bundled" }, drawsAtLayoutSize));

  it("says why when there is no browser to draw with", () =>
    withEnv({ CHROME_PATH: "/no/such/chrome" }, async () => {
      const result = await renderPng(plotHistory({ title: "t", yLabel: "y", series: { a: [1] } }));
      expect(result.png).toBeNull();
      expect("reason" in result && result.reason).toMatch(/CHROME_PATH is set to \/no\/such\/chrome, which does not exist.*unset it\. .*interactive only/);
    }));
});

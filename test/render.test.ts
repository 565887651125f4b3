import { PNG } from "pngjs";
import { afterEach, describe, expect, it } from "vitest";
import { bundledBrowserSupported } from "../src/browser/browser";
import { plotHistory } from "../src/report/charts";
import { closeRenderer, renderPng } from "../src/browser/render";
import { tileGrid } from "../src/report/images";

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

describe("a tile grid's image", () => {
  afterEach(() => closeRenderer());

  it("shows each image's pixels where its axes put them, and its caption as type below it", async () => {
    const grid = tileGrid(
      [
        { values: [0, 85, 170, 255], caption: ["grey"] },
        { colours: [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]], caption: ["colours"] },
      ],
      { rows: 2, cols: 2, columns: 2, scale: 20 },
      "two images",
    );
    const result = await renderPng(grid);
    expect(result.png).not.toBeNull();
    const png = PNG.sync.read(Buffer.from(result.png!));
    expect([png.width, png.height]).toEqual([grid.layout.width, grid.layout.height]);
    const rgb = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    // the centre of pixel (row, col) of the image on axes `k`
    const at = (k: "" | "2", row: number, col: number) => {
      const x = grid.layout[`xaxis${k}` as "xaxis"].domain!;
      const y = grid.layout[`yaxis${k}` as "yaxis"].domain!;
      return rgb(Math.round(x[0] * png.width + 10 + 20 * col), Math.round((1 - y[1]) * png.height + 10 + 20 * row));
    };
    expect([at("", 0, 0), at("", 0, 1), at("", 1, 0), at("", 1, 1)]).toEqual([
      [0, 0, 0], [85, 85, 85], [170, 170, 170], [255, 255, 255],
    ]);
    expect([at("2", 0, 0), at("2", 0, 1), at("2", 1, 0)]).toEqual([[255, 0, 0], [0, 255, 0], [0, 0, 255]]);
    // under each image, dark type on white: the caption
    const below = Math.round((1 - grid.layout.yaxis.domain![0]) * png.height) + 4;
    const inked = (from: number, to: number) => {
      let dark = 0;
      for (let y = below; y < below + 12; y++) for (let x = from; x < to; x++) if (rgb(x, y)[0]! < 128) dark++;
      return dark;
    };
    expect(inked(0, png.width / 2)).toBeGreaterThan(10);
    expect(inked(png.width / 2, png.width)).toBeGreaterThan(inked(0, png.width / 2)); // "colours" is longer than "grey"
  });
});

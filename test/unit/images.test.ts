import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { tileGrid } from "../../src/report/images";

const decode = (png: Uint8Array) => PNG.sync.read(Buffer.from(png));
const gray = (img: PNG, x: number, y: number) => img.data[(y * img.width + x) * 4]!;

describe("tileGrid", () => {
  it("draws each image scaled up, in a grid, with its caption below", () => {
    // two 2×2 images: a gradient and an all-white one
    const tiles = [
      { pixels: [0, 85, 170, 255], caption: ["1"] },
      { pixels: [255, 255, 255, 255], caption: ["1"] },
    ];
    const image = tileGrid(tiles, { rows: 2, cols: 2, columns: 2, scale: 4 }, "two");
    const img = decode(image.png);
    expect([img.width, img.height]).toEqual([image.width, image.height]);
    // tile width: max(2·4, caption 1 char · 4 px · textScale 3) + 2·4 padding = 20; two columns
    expect(img.width).toBe(40);
    // image 1, pixel (row 0, col 1) = 85 at x = 4 + 6 (centred) + 4.., y = 4
    const left = 4 + Math.floor((20 - 8 - 8) / 2);
    expect(gray(img, left + 0, 4)).toBe(0);
    expect(gray(img, left + 4, 4)).toBe(85);
    expect(gray(img, left + 0, 8)).toBe(170);
    expect(gray(img, left + 7, 11)).toBe(255);
    expect(gray(img, 20 + left, 4)).toBe(255);
    // the caption "1": its glyph's top row is ".#.", drawn 3×3 per cell under the image
    const textTop = 4 + 8 + 2 * 3;
    expect(gray(img, 4 + 3, textTop)).toBe(0); // ink
    expect(gray(img, 4 + 0, textTop)).toBe(255); // paper
    expect(image.title).toBe("two");
  });

  it("scales values by maxValue and explains bad input", () => {
    const img = decode(tileGrid([{ pixels: [0, 0.5, 1, 1], caption: [] }], { rows: 2, cols: 2, scale: 1, maxValue: 1 }).png);
    const left = 4 + Math.floor((img.width - 8 - 2) / 2);
    expect(gray(img, left + 1, 4)).toBe(128);
    expect(() => tileGrid([], { rows: 2, cols: 2 })).toThrow(/no images/);
    expect(() => tileGrid([{ pixels: [1, 2, 3], caption: [] }], { rows: 2, cols: 2 })).toThrow(/3 values, expected 2×2/);
  });
});

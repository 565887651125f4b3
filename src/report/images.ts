/**
 * Grids of small grayscale images with captions, as PNG, drawn from tensor
 * values in Node (pngjs; no browser): sample digits, misclassified digits.
 * Captions use a built-in 3×5 pixel font (digits, A–Z, a few signs).
 */
import { PNG } from "pngjs";
import { UserError } from "../core/errors";

/** 3×5 glyphs, one string of 15 cells each ("#" = ink), row by row. */
const GLYPHS: Record<string, string> = {
  "0": "####.##.##.####", "1": ".#.##..#..#.###", "2": "###..#####..###", "3": "###..#.##..####",
  "4": "#.##.####..#..#", "5": "####..###..####", "6": "####..####.####", "7": "###..#.#..#..#.",
  "8": "####.#####.####", "9": "####.####..####", A: ".#.#.#####.##.#", B: "##.#.###.#.###.",
  C: ".###..#..#...##", D: "##.#.##.##.###.", E: "####..##.#..###", F: "####..##.#..#..",
  G: ".###..#.##.#.##", H: "#.##.#####.##.#", I: "###.#..#..#.###", J: "..#..#..##.#.#.",
  K: "#.##.###.#.##.#", L: "#..#..#..#..###", M: "#.########.##.#", N: "##.#.##.##.##.#",
  O: ".#.#.##.##.#.#.", P: "##.#.###.#..#..", Q: ".#.#.##.###..##", R: "##.#.###.#.##.#",
  S: ".###...#...###.", T: "###.#..#..#..#.", U: "#.##.##.##.####", V: "#.##.##.##.#.#.",
  W: "#.##.########.#", X: "#.##.#.#.#.##.#", Y: "#.##.#.#..#..#.", Z: "###..#.#.#..###",
  " ": "...............", "-": "......###......", "/": "..#..#.#.#..#..", "%": "#.#..#.#.#..#.#",
  ">": "#...#...#.#.#..", ".": ".............#.", ":": "....#.....#....", "(": ".#.#..#..#...#.",
  ")": ".#...#..#..#.#.",
};

const GLYPH_W = 3;
const GLYPH_H = 5;

export interface Tile {
  /** rows×cols values, row by row: 0 is black, `maxValue` white. */
  pixels: ArrayLike<number>;
  /** Caption lines under the image (shown in capitals). */
  caption: string[];
}

export interface GridOptions {
  rows: number;
  cols: number;
  /** Tiles per row of the grid. */
  columns?: number;
  /** Each image pixel becomes scale×scale pixels. */
  scale?: number;
  /** The value drawn white (255 for raw bytes, 1 after rescaling). */
  maxValue?: number;
}

/** PNG bytes plus what a notebook needs to show it. */
export interface PngImage {
  png: Uint8Array;
  width: number;
  height: number;
  title: string;
}

export function isPngImage(value: unknown): value is PngImage {
  return typeof value === "object" && value !== null && (value as PngImage).png instanceof Uint8Array;
}

/** Lays `tiles` out in a grid, each image above its caption, and encodes it as PNG. */
export function tileGrid(tiles: Tile[], options: GridOptions, title = "image grid"): PngImage {
  const { rows, cols, columns = Math.min(tiles.length, 8), scale = 3, maxValue = 255 } = options;
  if (tiles.length === 0) throw new UserError("tileGrid: no images to draw.");
  for (const tile of tiles) {
    if (tile.pixels.length !== rows * cols) throw new UserError(`tileGrid: an image has ${tile.pixels.length} values, expected ${rows}×${cols}.`);
  }
  const textScale = Math.max(1, Math.floor(scale / 2) + 1);
  const lineHeight = (GLYPH_H + 2) * textScale;
  const captionLines = Math.max(...tiles.map((t) => t.caption.length));
  const pad = 4;
  const tileW = Math.max(cols * scale, ...tiles.flatMap((t) => t.caption.map((l) => l.length * (GLYPH_W + 1) * textScale))) + 2 * pad;
  const tileH = rows * scale + captionLines * lineHeight + 2 * pad;
  const gridRows = Math.ceil(tiles.length / columns);
  const png = new PNG({ width: tileW * columns, height: tileH * gridRows });
  png.data.fill(255);
  const put = (x: number, y: number, v: number) => {
    const i = (y * png.width + x) * 4;
    png.data[i] = png.data[i + 1] = png.data[i + 2] = v;
    png.data[i + 3] = 255;
  };
  tiles.forEach((tile, t) => {
    const left = (t % columns) * tileW + pad;
    const top = Math.floor(t / columns) * tileH + pad;
    const offset = left + Math.floor((tileW - 2 * pad - cols * scale) / 2);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = Math.round((Math.min(Math.max(tile.pixels[r * cols + c]! / maxValue, 0), 1)) * 255);
        for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) put(offset + c * scale + dx, top + r * scale + dy, v);
      }
    }
    tile.caption.forEach((line, l) => drawText(line, left, top + rows * scale + 2 * textScale + l * lineHeight, textScale, put));
  });
  const width = png.width;
  const height = png.height;
  return { png: new Uint8Array(PNG.sync.write(png)), width, height, title };
}

function drawText(text: string, left: number, top: number, scale: number, put: (x: number, y: number, v: number) => void): void {
  [...text.toUpperCase()].forEach((ch, i) => {
    const glyph = GLYPHS[ch] ?? GLYPHS["."]!;
    for (let cell = 0; cell < GLYPH_W * GLYPH_H; cell++) {
      if (glyph[cell] !== "#") continue;
      const gx = left + (i * (GLYPH_W + 1) + (cell % GLYPH_W)) * scale;
      const gy = top + Math.floor(cell / GLYPH_W) * scale;
      for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) put(gx + dx, gy + dy, 0);
    }
  });
}

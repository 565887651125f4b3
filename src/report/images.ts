/**
 * Grids of small images with captions, as PNG, drawn from tensor values in
 * Node (pngjs; no browser): sample digits, misclassified digits, a network's
 * filters and activations. Grayscale from values, or colours from a palette.
 * Captions and headings use a built-in 3×5 pixel font (digits, A–Z, a few signs).
 */
import { PNG } from "pngjs";
import { UserError } from "../core/errors";

/** 3×5 glyphs, one string of 15 cells each ("#" = ink), row by row. */
const GLYPHS: Record<string, string> = {
  "0": "####.##.##.####",
  "1": ".#.##..#..#.###",
  "2": "###..#####..###",
  "3": "###..#.##..####",
  "4": "#.##.####..#..#",
  "5": "####..###..####",
  "6": "####..####.####",
  "7": "###..#.#..#..#.",
  "8": "####.#####.####",
  "9": "####.####..####",
  A: ".#.#.#####.##.#",
  B: "##.#.###.#.###.",
  C: ".###..#..#...##",
  D: "##.#.##.##.###.",
  E: "####..##.#..###",
  F: "####..##.#..#..",
  G: ".###..#.##.#.##",
  H: "#.##.#####.##.#",
  I: "###.#..#..#.###",
  J: "..#..#..##.#.#.",
  K: "#.##.###.#.##.#",
  L: "#..#..#..#..###",
  M: "#.########.##.#",
  N: "##.#.##.##.##.#",
  O: ".#.#.##.##.#.#.",
  P: "##.#.###.#..#..",
  Q: ".#.#.##.###..##",
  R: "##.#.###.#.##.#",
  S: ".###...#...###.",
  T: "###.#..#..#..#.",
  U: "#.##.##.##.####",
  V: "#.##.##.##.#.#.",
  W: "#.##.########.#",
  X: "#.##.#.#.#.##.#",
  Y: "#.##.#.#..#..#.",
  Z: "###..#.#.#..###",
  " ": "...............",
  "-": "......###......",
  "/": "..#..#.#.#..#..",
  "%": "#.#..#.#.#..#.#",
  ">": "#...#...#.#.#..",
  ".": ".............#.",
  ":": "....#.....#....",
  "(": ".#.#..#..#...#.",
  ")": ".#...#..#..#.#.",
  _: "............###",
  ",": "..........#.#..",
  "+": "....#.###.#....",
  "×": "...#.#.#.#.#...",
};

const GLYPH_W = 3;
const GLYPH_H = 5;

export type Rgb = [number, number, number];

export type Tile =
  /** rows×cols values, row by row: 0 is black, `maxValue` white. */
  (
    | { pixels: ArrayLike<number> }
    /** rows×cols colours, row by row. */
    | { colours: Rgb[] }
  ) & {
    /** Caption lines under the image (shown in capitals). */
    caption: string[];
  };

export interface GridOptions {
  rows: number;
  cols: number;
  /** Tiles per row of the grid. */
  columns?: number;
  /** Each image pixel becomes scale×scale pixels. */
  scale?: number;
  /** The value drawn white (255 for raw bytes, 1 after rescaling). */
  maxValue?: number;
  /** A line drawn above the grid (shown in capitals), e.g. the layer a grid shows. */
  heading?: string;
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
  const { rows, cols, columns = Math.min(tiles.length, 8), scale = 3, maxValue = 255, heading } = options;
  if (tiles.length === 0) throw new UserError("tileGrid: no images to draw.");
  for (const tile of tiles) {
    const count = "pixels" in tile ? tile.pixels.length : tile.colours.length;
    if (count !== rows * cols) throw new UserError(`tileGrid: an image has ${count} values, expected ${rows}×${cols}.`);
  }
  // text grows with small images, but stays readable beside large ones
  const textScale = Math.min(3, Math.max(1, Math.floor(scale / 2) + 1));
  const lineHeight = (GLYPH_H + 2) * textScale;
  const captionLines = Math.max(...tiles.map((t) => t.caption.length));
  const pad = 4;
  const textWidth = (line: string) => line.length * (GLYPH_W + 1) * textScale;
  const tileW = Math.max(cols * scale, ...tiles.flatMap((t) => t.caption.map(textWidth))) + 2 * pad;
  const tileH = rows * scale + captionLines * lineHeight + 2 * pad;
  const headingH = heading === undefined ? 0 : lineHeight + 2 * pad;
  const gridRows = Math.ceil(tiles.length / columns);
  const png = new PNG({
    width: Math.max(tileW * columns, heading === undefined ? 0 : textWidth(heading) + 2 * pad),
    height: headingH + tileH * gridRows,
  });
  png.data.fill(255);
  const put = (x: number, y: number, [r, g, b]: Rgb) => {
    const i = (y * png.width + x) * 4;
    png.data[i] = r;
    png.data[i + 1] = g;
    png.data[i + 2] = b;
    png.data[i + 3] = 255;
  };
  const ink = (x: number, y: number) => put(x, y, [0, 0, 0]);
  if (heading !== undefined) drawText(heading, pad, pad, textScale, ink);
  tiles.forEach((tile, t) => {
    const left = (t % columns) * tileW + pad;
    const top = headingH + Math.floor(t / columns) * tileH + pad;
    const offset = left + Math.floor((tileW - 2 * pad - cols * scale) / 2);
    const colourAt =
      "pixels" in tile
        ? (i: number): Rgb => {
            const v = Math.round(Math.min(Math.max(tile.pixels[i]! / maxValue, 0), 1) * 255);
            return [v, v, v];
          }
        : (i: number): Rgb => tile.colours[i]!;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const colour = colourAt(r * cols + c);
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++) put(offset + c * scale + dx, top + r * scale + dy, colour);
      }
    }
    tile.caption.forEach((line, l) =>
      drawText(line, left, top + rows * scale + 2 * textScale + l * lineHeight, textScale, ink),
    );
  });
  const width = png.width;
  const height = png.height;
  return { png: new Uint8Array(PNG.sync.write(png)), width, height, title };
}

const lerp = (a: Rgb, b: Rgb, t: number): Rgb => [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * t)) as Rgb;
const BLUE: Rgb = [33, 102, 172];
const MIDDLE: Rgb = [247, 247, 247];
const RED: Rgb = [178, 24, 43];

/**
 * A weight's colour, blue for negative through a fixed light grey at zero to
 * red for positive, `limit` and beyond at the ends: the same sign reads the
 * same way in every filter.
 */
export function diverging(value: number, limit: number): Rgb {
  const t = limit > 0 ? Math.min(Math.max(value / limit, -1), 1) : 0;
  return t < 0 ? lerp(MIDDLE, BLUE, -t) : lerp(MIDDLE, RED, t);
}

const HEAT: Rgb[] = [
  [0, 0, 131],
  [0, 60, 170],
  [5, 255, 255],
  [255, 255, 0],
  [250, 0, 0],
  [128, 0, 0],
];

/** A heat map's colour for a value in [0, 1]: dark blue (none) through cyan and yellow to dark red (most). */
export function heat(value: number): Rgb {
  const t = Math.min(Math.max(value, 0), 1) * (HEAT.length - 1);
  const i = Math.min(Math.floor(t), HEAT.length - 2);
  return lerp(HEAT[i]!, HEAT[i + 1]!, t - i);
}

/** `over` laid on `under` with opacity `alpha` in [0, 1]. */
export function blend(under: Rgb, over: Rgb, alpha: number): Rgb {
  return lerp(under, over, Math.min(Math.max(alpha, 0), 1));
}

function drawText(text: string, left: number, top: number, scale: number, ink: (x: number, y: number) => void): void {
  [...text.toUpperCase()].forEach((ch, i) => {
    const glyph = GLYPHS[ch] ?? GLYPHS["."]!;
    for (let cell = 0; cell < GLYPH_W * GLYPH_H; cell++) {
      if (glyph[cell] !== "#") continue;
      const gx = left + (i * (GLYPH_W + 1) + (cell % GLYPH_W)) * scale;
      const gy = top + Math.floor(cell / GLYPH_W) * scale;
      for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) ink(gx + dx, gy + dy);
    }
  });
}

/**
 * Grids of small images with captions, as Plotly figures: sample digits,
 * misclassified digits, a network's filters and activations. Each image sits on
 * axes of its own; values are drawn as a heatmap (hovering shows the value),
 * ready-made colours as an image. The browser that draws the charts draws these
 * too, so captions and headings are set in the same type as every chart.
 */
import { UserError } from "../core/errors";
import type { Axis, Figure, ImageTrace, TileHeatmapTrace, TypedArray } from "./charts";

export type Rgb = [number, number, number];

export type Tile =
  /** rows×cols values, row by row, coloured by the grid's palette. */
  (
    | { values: ArrayLike<number> }
    /** rows×cols colours, row by row. */
    | { colours: Rgb[] }
  ) & {
    /** Caption lines under the image. */
    caption: string[];
  };

/**
 * How values become colours: grey from 0 (black) to `max` (white), or from
 * blue (−`limit`) through light grey (0) to red (+`limit`), so the same sign
 * reads the same way in every image.
 */
export type Palette = { grey: number } | { diverging: number };

export interface GridOptions {
  rows: number;
  cols: number;
  /** Tiles per row of the grid. */
  columns?: number;
  /** Each image pixel becomes scale×scale pixels. */
  scale?: number;
  /** Values' colours; grey up to 255 (raw bytes) by default. */
  palette?: Palette;
  /** A line above the grid, e.g. the layer a grid shows. */
  heading?: string;
}

const BLUE: Rgb = [33, 102, 172];
const MIDDLE: Rgb = [247, 247, 247];
const RED: Rgb = [178, 24, 43];
const css = ([r, g, b]: Rgb) => `rgb(${r},${g},${b})`;

// Sizes in pixels: a caption line of Plotly's 12 px type, its width per character on average.
const CAPTION_SIZE = 12;
const LINE = 15;
const CHAR = 7;
const PAD = 6;
const HEADING = 36;

/** `values` as Plotly's typed array of `dtype`, in the given shape. */
function typed(values: ArrayLike<number>, dtype: TypedArray["dtype"], shape: number[]): TypedArray {
  const array = dtype === "u1" ? Uint8Array.from(values) : Float32Array.from(values);
  return { dtype, bdata: Buffer.from(array.buffer).toString("base64"), shape: shape.join(",") };
}

/**
 * A tile's values as the heatmap stores them, with the scale's ends and colours: grey as whole steps of brightness
 * from 0 to 255 (raw pixels exactly), one byte each; diverging as the values themselves (a filter's weights).
 */
function shades(values: ArrayLike<number>, palette: Palette, shape: number[]) {
  if ("grey" in palette) {
    const top = palette.grey;
    const steps = Array.from(values, (v) => Math.round(Math.min(Math.max(v / top, 0), 1) * 255));
    return { z: typed(steps, "u1", shape), zmin: 0, zmax: 255, colorscale: GREYS, hovertemplate: "%{z} of 255" };
  }
  const limit = palette.diverging;
  return { z: typed(values, "f4", shape), zmin: -limit, zmax: limit, colorscale: DIVERGING, hovertemplate: "%{z:.3f}" };
}

const GREYS: Array<[number, string]> = [
  [0, "rgb(0,0,0)"],
  [1, "rgb(255,255,255)"],
];
const DIVERGING: Array<[number, string]> = [
  [0, css(BLUE)],
  [0.5, css(MIDDLE)],
  [1, css(RED)],
];

/** A grid of images as a Plotly figure, with the words its image's alt text gives. */
export interface TileGrid extends Figure {
  data: Array<TileHeatmapTrace | ImageTrace>;
  alt: string;
}

/**
 * Lays `tiles` out in a grid, each image above its caption, as one figure.
 * `alt` says in words what the grid shows (the image's alt text in the HTML and PDF).
 */
export function tileGrid(tiles: Tile[], options: GridOptions, alt: string): TileGrid {
  const { rows, cols, columns = Math.min(tiles.length, 8), scale = 3, palette = { grey: 255 }, heading } = options;
  if (tiles.length === 0) throw new UserError("tileGrid: no images to draw.");
  for (const tile of tiles) {
    const count = "values" in tile ? tile.values.length : tile.colours.length;
    if (count !== rows * cols) throw new UserError(`tileGrid: an image has ${count} values, expected ${rows}×${cols}.`);
  }
  const captionLines = Math.max(...tiles.map((t) => t.caption.length));
  const tileW = Math.max(cols * scale, ...tiles.flatMap((t) => t.caption.map((line) => line.length * CHAR))) + 2 * PAD;
  const tileH = rows * scale + captionLines * LINE + 2 * PAD;
  const top = heading === undefined ? 0 : HEADING;
  const width = Math.max(tileW * columns, heading === undefined ? 0 : heading.length * (CHAR + 1) + 2 * PAD);
  const plotH = tileH * Math.ceil(tiles.length / columns);
  const layout: Figure["layout"] = {
    title: { text: heading ?? "", x: PAD / width, xanchor: "left", font: { size: 14 } },
    xaxis: { visible: false },
    yaxis: { visible: false },
    width,
    height: top + plotH,
    margin: { t: top, r: 0, b: 0, l: 0 },
    showlegend: false,
    annotations: [],
  };
  const data = tiles.map((tile, t): TileHeatmapTrace | ImageTrace => {
    const k = t === 0 ? "" : String(t + 1);
    const left = (t % columns) * tileW + Math.floor((tileW - cols * scale) / 2);
    const above = Math.floor(t / columns) * tileH + PAD;
    const x: Axis = { domain: [left / width, (left + cols * scale) / width], range: [-0.5, cols - 0.5] };
    const y: Axis = { domain: [1 - (above + rows * scale) / plotH, 1 - above / plotH], range: [rows - 0.5, -0.5] };
    const place = (letter: "x" | "y", other: "x" | "y", axis: Axis) => {
      const placed = { ...axis, anchor: `${other}${k}`, visible: false, fixedrange: true };
      if (t === 0) layout[`${letter}axis`] = placed;
      else layout[`${letter}axis${t + 1}`] = placed;
    };
    place("x", "y", x);
    place("y", "x", y);
    layout.annotations!.push({
      text: tile.caption.join("<br>"),
      x: (left + (cols * scale) / 2) / width,
      y: y.domain![0] - 2 / plotH,
      xref: "paper",
      yref: "paper",
      xanchor: "center",
      yanchor: "top",
      showarrow: false,
      font: { size: CAPTION_SIZE },
    });
    const axes = { xaxis: `x${k}`, yaxis: `y${k}` };
    const where = "row %{y}, column %{x}";
    if ("values" in tile) {
      const { hovertemplate, ...shaded } = shades(tile.values, palette, [rows, cols]);
      return {
        type: "heatmap",
        ...shaded,
        showscale: false,
        ...axes,
        hovertemplate: `${where}: ${hovertemplate}<extra></extra>`,
      };
    }
    const z = typed(tile.colours.flat(), "u1", [rows, cols, 3]);
    return { type: "image", z, ...axes, hovertemplate: `${where}<extra></extra>` };
  });
  return { data, layout, alt };
}

const lerp = (a: Rgb, b: Rgb, t: number): Rgb => [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * t)) as Rgb;

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

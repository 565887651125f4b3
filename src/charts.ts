/**
 * Plotly figures (plain JSON: `{data, layout}`) for training histories. They
 * are drawn by JupyterLab's Plotly renderer, and by a browser for the static
 * image stored beside them (see render.ts).
 */
import { UserError } from "./errors";

export interface LineTrace {
  type: "scatter";
  mode: "lines+markers";
  name: string;
  x: number[];
  y: number[];
}

export interface Figure {
  data: LineTrace[];
  layout: {
    title: { text: string };
    xaxis: { title: { text: string }; dtick?: number };
    yaxis: { title: { text: string } };
    width: number;
    height: number;
    margin?: Record<string, number>;
  };
}

export interface HistoryPlot {
  title: string;
  yLabel: string;
  xLabel?: string;
  /** Legend label → one value per epoch, e.g. `{ accuracy: history.history.accuracy }`. */
  series: Record<string, number[]>;
}

export function isFigure(value: unknown): value is Figure {
  const v = value as Partial<Figure> | null;
  return typeof v === "object" && v !== null && Array.isArray(v.data) && typeof v.layout === "object";
}

/**
 * A line per series against the epoch (from 1), like the seed's
 * `plt.plot(history.history['accuracy'], label='accuracy')` calls.
 */
export function plotHistory({ title, yLabel, xLabel = "epoch", series }: HistoryPlot): Figure {
  const entries = Object.entries(series);
  if (entries.length === 0) throw new UserError("plotHistory: series is empty; give at least one { label: values } entry.");
  for (const [label, values] of entries) {
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== "number")) {
      throw new UserError(`plotHistory: series "${label}" must be a non-empty array of numbers (one per epoch).`);
    }
  }
  return {
    data: entries.map(([name, y]) => ({ type: "scatter", mode: "lines+markers", name, x: y.map((_, i) => i + 1), y })),
    layout: {
      title: { text: title },
      xaxis: { title: { text: xLabel }, dtick: 1 },
      yaxis: { title: { text: yLabel } },
      width: 720,
      height: 420,
      margin: { t: 60, r: 20, b: 60, l: 70 },
    },
  };
}

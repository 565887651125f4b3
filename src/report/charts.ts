/**
 * Plotly figures (plain JSON: `{data, layout}`) for training histories and
 * confusion matrices. They
 * are drawn by JupyterLab's Plotly renderer, and by a browser for the static
 * image stored beside them (see render.ts).
 */
import { UserError } from "../core/errors";

export interface LineTrace {
  type: "scatter";
  mode: "lines+markers";
  name: string;
  x: number[];
  y: number[];
}

export interface HeatmapTrace {
  type: "heatmap";
  z: number[][];
  x: string[];
  y: string[];
  colorscale: string;
  reversescale: boolean;
  texttemplate: string;
  hovertemplate: string;
}

export interface Figure {
  data: Array<LineTrace | HeatmapTrace>;
  layout: {
    title: { text: string };
    xaxis: { title: { text: string }; dtick?: number; type?: "category"; side?: "top" | "bottom" };
    yaxis: { title: { text: string }; type?: "category"; autorange?: "reversed" };
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

/**
 * Rows: the true class; columns: the predicted class; each cell counts the
 * test examples, so the diagonal holds the correct predictions.
 */
export function confusionFigure(matrix: number[][], classNames: string[], title: string): Figure {
  if (matrix.length !== classNames.length || matrix.some((row) => row.length !== classNames.length)) {
    throw new UserError(`confusionFigure: a ${classNames.length}-class matrix needs ${classNames.length}×${classNames.length} counts.`);
  }
  return {
    data: [{
      type: "heatmap",
      z: matrix,
      x: classNames,
      y: classNames,
      colorscale: "Blues",
      reversescale: true, // white for none, dark blue for many
      texttemplate: "%{z}",
      hovertemplate: "true %{y}, predicted %{x}: %{z}<extra></extra>",
    }],
    layout: {
      title: { text: title },
      xaxis: { title: { text: "predicted" }, type: "category" },
      yaxis: { title: { text: "true" }, type: "category", autorange: "reversed" },
      width: 620,
      height: 560,
      margin: { t: 60, r: 20, b: 80, l: 100 },
    },
  };
}

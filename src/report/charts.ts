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
  /** The second of two side-by-side plots. */
  xaxis?: "x2";
  yaxis?: "y2";
  line?: { color: string; dash?: "dot" };
}

export interface Axis {
  title?: { text: string };
  dtick?: number;
  type?: "category";
  side?: "top" | "bottom";
  autorange?: "reversed";
  range?: [number, number];
  domain?: [number, number];
  anchor?: string;
  visible?: boolean;
  fixedrange?: boolean;
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

/**
 * Plotly's typed array: the values as one base64 string of bytes (little-endian), `shape` "rows,cols" or
 * "rows,cols,3". A notebook stores it as one line, where a nested list takes a line per number.
 */
export interface TypedArray {
  dtype: "u1" | "f4";
  bdata: string;
  shape: string;
}

/** One image of a tile grid (images.ts): values on axes of its own, coloured by a scale. */
export interface TileHeatmapTrace {
  type: "heatmap";
  z: TypedArray;
  zmin: number;
  zmax: number;
  colorscale: Array<[number, string]>;
  showscale: false;
  xaxis: string;
  yaxis: string;
  hovertemplate: string;
}

/** One image of a tile grid given as colours, rows of [r, g, b]. */
export interface ImageTrace {
  type: "image";
  z: TypedArray;
  xaxis: string;
  yaxis: string;
  hovertemplate: string;
}

export interface Annotation {
  text: string;
  x: number;
  y: number;
  xref: "paper";
  yref: "paper";
  xanchor: "center";
  yanchor: "top";
  showarrow: false;
  font: { size: number };
}

export interface Figure {
  data: Array<LineTrace | HeatmapTrace | TileHeatmapTrace | ImageTrace>;
  layout: {
    title: { text: string; x?: number; xanchor?: "left"; font?: { size: number } };
    xaxis: Axis;
    yaxis: Axis;
    /** The axes of further plots or images: xaxis2, yaxis2, … */
    [axis: `${"x" | "y"}axis${number}`]: Axis | undefined;
    width: number;
    height: number;
    margin?: Record<string, number>;
    showlegend?: boolean;
    annotations?: Annotation[];
  };
  /** What the figure shows in words, where its title and traces cannot say it (a grid of images). */
  alt?: string;
}

/** A chart of lines against the epoch (plotHistory, trainingFigure). */
export interface LineFigure extends Figure {
  data: LineTrace[];
}

/** A chart of one heatmap (confusionFigure). */
export interface HeatmapFigure extends Figure {
  data: HeatmapTrace[];
}

export interface HistoryPlot {
  title: string;
  yLabel: string;
  xLabel?: string;
  /**
   * Legend label → one value per epoch, e.g. `{ accuracy: history.history.accuracy }`.
   * An undefined series (val_accuracy of a fit without validation) is left out.
   */
  series: Record<string, number[] | undefined>;
}

export function isFigure(value: unknown): value is Figure {
  const v = value as Partial<Figure> | null;
  return typeof v === "object" && v !== null && Array.isArray(v.data) && typeof v.layout === "object";
}

/**
 * A line per series against the epoch (from 1), like the seed's
 * `plt.plot(history.history['accuracy'], label='accuracy')` calls.
 */
export function plotHistory({ title, yLabel, xLabel = "epoch", series }: HistoryPlot): LineFigure {
  const entries = Object.entries(series).filter((entry): entry is [string, number[]] => entry[1] !== undefined);
  if (entries.length === 0)
    throw new UserError("plotHistory: series is empty; give at least one { label: values } entry.");
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

export interface TrainingCurves {
  title: string;
  /** The epochs the fit will run, so the x axis does not grow as it runs. */
  epochs: number;
  /** The compiled metric drawn beside the loss ("accuracy" for the seed); null for the loss alone. */
  metric: string | null;
  /** The finished epochs' loss, metric and their val_ twins (a History's `history`). */
  history: Record<string, number[] | undefined>;
  /** The running epoch: where it is, in epochs from the start, and its running means so far. */
  running?: { x: number; loss: number; metric?: number };
}

const TRAIN_COLOUR = "#1f77b4";
const VALIDATION_COLOUR = "#ff7f0e";

/**
 * Loss (left) and the metric (right) against the epoch, each beside its `val_`
 * counterpart: the live chart's frame. A running epoch extends the training
 * lines to where it is; the validation lines grow once per epoch.
 */
export function trainingFigure({ title, epochs, metric, history, running }: TrainingCurves): LineFigure {
  const line = (name: string, colour: string, second: boolean, now?: number): LineTrace[] => {
    const values = history[name];
    if (values === undefined) return [];
    const x = values.map((_, i) => i + 1);
    const y = [...values];
    if (running !== undefined && now !== undefined) {
      x.push(running.x);
      y.push(now);
    }
    return [
      {
        type: "scatter",
        mode: "lines+markers",
        name,
        x,
        y,
        line: { color: colour },
        ...(second ? { xaxis: "x2", yaxis: "y2" } : {}),
      },
    ];
  };
  const range: [number, number] = [0, Math.max(epochs, 1) + 0.2];
  const epochAxis = (domain: [number, number]): Axis => ({ title: { text: "epoch" }, dtick: 1, range, domain });
  return {
    data: [
      ...line("loss", TRAIN_COLOUR, false, running?.loss),
      ...line("val_loss", VALIDATION_COLOUR, false),
      ...(metric === null
        ? []
        : [...line(metric, TRAIN_COLOUR, true, running?.metric), ...line(`val_${metric}`, VALIDATION_COLOUR, true)]),
    ],
    layout: {
      title: { text: title },
      xaxis: epochAxis(metric === null ? [0, 1] : [0, 0.44]),
      yaxis: { title: { text: "loss" } },
      ...(metric === null
        ? {}
        : {
            xaxis2: { ...epochAxis([0.56, 1]), anchor: "y2" },
            yaxis2: { title: { text: metric }, anchor: "x2" },
          }),
      width: 900,
      height: 400,
      margin: { t: 60, r: 20, b: 60, l: 70 },
    },
  };
}

/**
 * Rows: the true class; columns: the predicted class; each cell counts the
 * test examples, so the diagonal holds the correct predictions.
 */
export function confusionFigure(matrix: number[][], classNames: string[], title: string): HeatmapFigure {
  if (matrix.length !== classNames.length || matrix.some((row) => row.length !== classNames.length)) {
    throw new UserError(
      `confusionFigure: a ${classNames.length}-class matrix needs ${classNames.length}×${classNames.length} counts.`,
    );
  }
  return {
    data: [
      {
        type: "heatmap",
        z: matrix,
        x: classNames,
        y: classNames,
        colorscale: "Blues",
        reversescale: true, // white for none, dark blue for many
        texttemplate: "%{z}",
        hovertemplate: "true %{y}, predicted %{x}: %{z}<extra></extra>",
      },
    ],
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

/**
 * What a figure shows, in words, for readers who cannot see it (the alt text of
 * its image in the HTML and the hand-in PDF): its title, then each plot's
 * series against its x axis, or a heatmap's axes.
 */
export function describeFigure(figure: Figure): string {
  if (figure.alt !== undefined) return figure.alt;
  const { layout } = figure;
  const listed = (names: string[]) =>
    names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  const plots = new Map<string, LineTrace[]>();
  const parts: string[] = [];
  for (const trace of figure.data) {
    if (trace.type === "image" || "zmin" in trace) continue; // a tile grid's images, described by its alt
    if (trace.type === "heatmap") {
      const span = (labels: string[]) => (labels.length > 1 ? `${labels[0]} to ${labels.at(-1)}` : labels.join(""));
      parts.push(
        `heatmap of ${layout.yaxis.title?.text} (rows, ${span(trace.y)}) by ${layout.xaxis.title?.text} (columns, ` +
          `${span(trace.x)})`,
      );
    } else {
      const axis = trace.yaxis ?? "y";
      plots.set(axis, [...(plots.get(axis) ?? []), trace]);
    }
  }
  for (const [axis, traces] of plots) {
    const [x, y] = axis === "y2" ? [layout.xaxis2, layout.yaxis2] : [layout.xaxis, layout.yaxis];
    const xs = traces.flatMap((t) => t.x);
    const round = (v: number) => Number(v.toFixed(2));
    const range = xs.length > 0 ? ` (${round(Math.min(...xs))} to ${round(Math.max(...xs))})` : "";
    parts.push(
      `${y?.title?.text ?? "value"}: ${listed(traces.map((t) => t.name))} against ${x?.title?.text ?? "x"}${range}`,
    );
  }
  return [layout.title.text, ...parts].join("; ");
}

/**
 * Everything that knows about the Jupyter kernel (tslab): rich outputs with
 * several MIME types, and outputs updated in place (fit's progress, the live
 * chart). Outside a kernel (plain Node, tests) the same calls print plain text.
 */
import { randomBytes } from "node:crypto";
import type { DataFrame } from "danfojs-node";
import { describeFigure, isFigure, type Figure } from "../report/charts";
import { setProgressOutput, terminalOutput, transcriptText } from "../training/progress";
import { renderPng } from "../browser/render";
import { KERNELS_METADATA, PROGRESS_METADATA, TABLE_METADATA } from "../core/metadata";
import { kernelChoices } from "../engine";
import { isTable, tableData, tableHtml, tableText } from "../report/tables";

export type Bundle = Record<string, unknown>;
type DisplayWriter = (
  message: { data: Bundle; metadata: Bundle; transient: { display_id?: string } },
  update: boolean,
) => void;

/**
 * tslab's public `display` sends one MIME type per output, but a table wants
 * HTML with a text fallback and a chart wants Plotly JSON with a PNG. The
 * writer behind `display` takes a whole bundle; it is set while a cell runs.
 * (tslab is pinned; test/display.test.ts fails if this internal moves.)
 */
function kernelWriter(): DisplayWriter | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require("tslab/dist/jupyter") as { lastWriteDisplayData: DisplayWriter | null }).lastWriteDisplayData;
  } catch {
    return null;
  }
}

/** Shows one output carrying every representation in `bundle`. */
function publish(bundle: Bundle, metadata: Bundle = {}): void {
  const write = kernelWriter();
  if (write === null) {
    console.log(String(bundle["text/plain"] ?? ""));
    return;
  }
  write({ data: bundle, metadata, transient: {} }, false);
}

let warnedNoImage = false;

/** The output bundle for a Plotly figure: interactive JSON and a title (a picture's alt), without its image. */
function plotlyBundle(figure: Figure): Bundle {
  return {
    "application/vnd.plotly.v1+json": { data: figure.data, layout: figure.layout, config: { displaylogo: false } },
    "text/plain": figure.alt === undefined ? `<Plotly figure: ${figure.layout.title.text}>` : `<image: ${figure.alt}>`,
  };
}

/** The output bundle for a Plotly figure with a PNG of it when a browser can draw one (for the PDF, HTML, GitHub). */
async function figureBundle(figure: Figure): Promise<{ bundle: Bundle; metadata: Bundle }> {
  const bundle = plotlyBundle(figure);
  const metadata: Bundle = {};
  const image = await renderPng(figure);
  if (image.png !== null) {
    bundle["image/png"] = Buffer.from(image.png).toString("base64");
    // alt: what the image shows, for the HTML and the hand-in PDF (python/deep_convolution_pdf.py)
    metadata["image/png"] = { width: figure.layout.width, height: figure.layout.height, alt: describeFigure(figure) };
  } else if (!warnedNoImage) {
    warnedNoImage = true;
    console.warn(image.reason);
  }
  return { bundle, metadata };
}

/**
 * Shows a DataFrame (HTML table + text), a Plotly figure or picture grid
 * (interactive + PNG), each of a list of them in turn, or anything else as text.
 */
export async function show(value: DataFrame | Figure | string | Array<DataFrame | Figure | string>): Promise<void> {
  if (Array.isArray(value)) {
    for (const item of value) await show(item);
  } else if (isTable(value)) {
    publish({ "text/html": tableHtml(value), "text/plain": tableText(value) }, { [TABLE_METADATA]: tableData(value) });
  } else if (isFigure(value)) {
    const { bundle, metadata } = await figureBundle(value);
    publish(bundle, metadata);
  } else {
    publish({ "text/plain": String(value) });
  }
}

/**
 * One output that can be rewritten in place (a display with an id), or null
 * outside a kernel.
 */
function updatableOutput(): ((bundle: Bundle, metadata?: Bundle) => void) | null {
  const write = kernelWriter();
  if (write === null) return null;
  const displayId = randomBytes(8).toString("hex");
  let shown = false;
  return (bundle, metadata = {}) => {
    write({ data: bundle, metadata, transient: { display_id: displayId } }, shown);
    shown = true;
  };
}

/**
 * A Plotly figure in one output, redrawn in place frame by frame; the last
 * frame carries its PNG. Null outside a kernel.
 */
export function liveFigure(): { draw(figure: Figure): void; finish(figure: Figure): Promise<void> } | null {
  const output = updatableOutput();
  if (output === null) return null;
  let drawn = false;
  const replace = (bundle: Bundle, metadata?: Bundle) => {
    // JupyterLab's Plotly renderer draws a figure once and ignores later updates to
    // it (jupyterlab-plotly 7: renderModel returns at once when a graph exists).
    // An update with another MIME type in between has JupyterLab make a new renderer.
    if (drawn) output({ "text/plain": String(bundle["text/plain"]) });
    output(bundle, metadata);
    drawn = true;
  };
  return {
    draw: (figure) => replace(plotlyBundle(figure)),
    finish: async (figure) => {
      const { bundle, metadata } = await figureBundle(figure);
      replace(bundle, metadata);
    },
  };
}

// Every fit's progress: in a kernel, one output rewritten in place (its metadata
// says which lines are finished, for the headless runner, and once an epoch has
// ended which kernels trained it); elsewhere the terminal.
setProgressOutput(() => {
  const output = updatableOutput();
  if (output === null) return terminalOutput();
  return (transcript) =>
    output(
      { "text/plain": transcriptText(transcript) },
      {
        [PROGRESS_METADATA]: { finished: transcript.finished.length, running: transcript.running !== null },
        ...(transcript.running === null ? { [KERNELS_METADATA]: kernelChoices() } : {}),
      },
    );
});

/**
 * `model.summary()` as Keras prints it (the seed's layout), not tfjs's:
 * `Model: "sequential"`, columns Layer (type) / Output Shape / Param #,
 * shapes like `(None, 26, 26, 32)`, totals with thousands separators.
 */
import type { Layer, Network } from "../core/network";

// Where Keras's three columns end at its default line length; the first widens for long names.
const COLUMNS = [29, 55, 65];

/** `[null, 26, 26, 32]` as Keras writes it: `(None, 26, 26, 32)`; `(None, 10)` for one dimension. */
export function kerasShape(shape: unknown): string {
  if (Array.isArray(shape) && shape.length > 0 && Array.isArray(shape[0])) return shape.map(kerasShape).join(", ");
  const dims = (shape as Array<number | null>).map((d) => (d === null ? "None" : String(d)));
  return `(${dims.join(", ")}${dims.length === 1 ? "," : ""})`;
}

const count = (weights: Layer["weights"]) =>
  weights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
const thousands = (n: number) => n.toLocaleString("en-US");

function row(cells: string[], columns: number[]): string {
  let line = "";
  cells.forEach((cell, i) => {
    line += ` ${cell}`;
    line = line.padEnd(columns[i]!);
  });
  return line.trimEnd();
}

/** The text Keras 2's `model.summary()` prints for `model`. */
export function kerasSummary(model: Network): string {
  const trainable = model.layers.reduce((sum, l) => sum + count(l.trainableWeights), 0);
  const nonTrainable = model.layers.reduce((sum, l) => sum + count(l.nonTrainableWeights), 0);
  const rows = model.layers.map((l) => [
    `${l.name} (${l.getClassName()})`,
    kerasShape(l.outputShape),
    String(l.countParams()),
  ]);
  const extra = Math.max(0, ...rows.map(([name]) => name!.length + 1 - COLUMNS[0]!)); // a space before the next column
  const columns = COLUMNS.map((c) => c + extra);
  const width = columns.at(-1)!;
  return [
    `Model: "${model.name}"`,
    "_".repeat(width),
    row(["Layer (type)", "Output Shape", "Param #"], columns),
    "=".repeat(width),
    ...rows.map((cells) => row(cells, columns)),
    "=".repeat(width),
    `Total params: ${thousands(trainable + nonTrainable)}`,
    `Trainable params: ${thousands(trainable)}`,
    `Non-trainable params: ${thousands(nonTrainable)}`,
    "_".repeat(width),
  ].join("\n");
}

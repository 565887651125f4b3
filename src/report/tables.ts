/**
 * Training histories and model comparisons as danfojs DataFrames, and their
 * rendering as an HTML table and as plain text (for places without HTML).
 */
import type { DataFrame } from "danfojs-node";
import { escapeHtml } from "../core/html";
import { generalisation, perClassMetrics } from "./analysis";
import type { History } from "../training/training";

type Danfo = typeof import("danfojs-node");
let danfo: Danfo | null = null;

/** danfojs, loaded with the first table: about 75 MB and a second at import, which training does not need. */
function frames(): Danfo {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (danfo ??= require("danfojs-node") as Danfo);
}

/** Whether `value` is a danfojs DataFrame, one of ours or one a student made. */
export function isTable(value: unknown): value is DataFrame {
  return (
    typeof value === "object" &&
    value !== null &&
    value.constructor?.name === "DataFrame" &&
    value instanceof frames().DataFrame
  );
}

/**
 * One row per epoch, indexed by epoch number (from 1): the loss and each compiled metric, their val_ twins, seconds
 * (loss, accuracy, val_loss, val_accuracy, seconds for the seed).
 */
export function historyTable(history: History): DataFrame {
  const names = Object.keys(history.history).filter((name) => name !== "seconds");
  const ordered = [...names.filter((n) => !n.startsWith("val_")), ...names.filter((n) => n.startsWith("val_"))];
  const columns: Record<string, number[]> = {};
  for (const name of [...ordered, "seconds"]) columns[name] = history.history[name]!;
  if (history.epoch.length === 0) return new (frames().DataFrame)([], { columns: Object.keys(columns) });
  return new (frames().DataFrame)(columns, { index: history.epoch.map((e) => e + 1) });
}

export interface ModelResult {
  history: History;
  /** Test-set loss and accuracy, from `evaluate`. */
  test?: { loss: number; accuracy: number };
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

/**
 * One row per model: final training and validation metrics, the
 * train−validation accuracy gap and validation−train loss gap (positive
 * means the model does better on data it trained on), the epoch with the
 * lowest validation loss, mean seconds per epoch, and test metrics where given.
 */
export function comparisonTable(results: Record<string, ModelResult>): DataFrame {
  const names = Object.keys(results);
  const rows = names.map((name) => {
    const { history, test } = results[name]!;
    const g = generalisation(history);
    return {
      loss: g.trainLoss,
      accuracy: g.trainAccuracy,
      val_loss: g.valLoss,
      val_accuracy: g.valAccuracy,
      accuracy_gap: g.accuracyGap,
      loss_gap: g.lossGap,
      best_val_loss_epoch: g.bestValLossEpoch,
      seconds_per_epoch: mean(history.history.seconds),
      test_loss: test?.loss ?? NaN,
      test_accuracy: test?.accuracy ?? NaN,
    };
  });
  return new (frames().DataFrame)(rows, { index: names });
}

/** Per class (rows named by `classNames`): precision, recall and the number of test examples. */
export function classTable(matrix: number[][], classNames: string[]): DataFrame {
  const { precision, recall, support } = perClassMetrics(matrix);
  return new (frames().DataFrame)({ precision, recall, support }, { index: classNames });
}

function formatCell(value: unknown, column: string): string {
  if (typeof value !== "number") return String(value);
  if (Number.isNaN(value)) return "–";
  if (Number.isInteger(value) && (column === "support" || column.endsWith("epoch"))) return String(value);
  if (column.startsWith("seconds")) return value.toFixed(1);
  return value.toFixed(4);
}

function cells(df: DataFrame): { header: string[]; body: string[][] } {
  const columns = df.columns as string[];
  const values = df.values as unknown[][];
  const index = df.index as (string | number)[];
  return {
    header: ["", ...columns],
    body: values.map((row, i) => [String(index[i]), ...row.map((v, j) => formatCell(v, columns[j]!))]),
  };
}

/** The table as HTML, styled like pandas' notebook tables (JupyterLab styles class "dataframe"). */
export function tableHtml(df: DataFrame): string {
  const { header, body } = cells(df);
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const tr = body
    .map(
      ([index, ...row]) =>
        `<tr><th>${escapeHtml(index!)}</th>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`,
    )
    .join("\n");
  const head = `<thead><tr style="text-align: right;">${th}</tr></thead>`;
  return `<table class="dataframe" border="1">\n${head}\n<tbody>\n${tr}\n</tbody>\n</table>`;
}

/** The table's values as JSON (NaN, "no value", as null), to keep beside its HTML in the notebook. */
export function tableData(df: DataFrame): {
  index: Array<string | number>;
  columns: string[];
  values: Array<Array<number | string | null>>;
} {
  const values = (df.values as unknown[][]).map((row) =>
    row.map((v) => (typeof v === "number" && Number.isNaN(v) ? null : (v as number | string))),
  );
  return { index: df.index as Array<string | number>, columns: df.columns as string[], values };
}

/** The table as aligned plain text. */
export function tableText(df: DataFrame): string {
  const { header, body } = cells(df);
  const rows = [header, ...body];
  const widths = header.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows
    .map((r) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  "))
    .join("\n");
}

import { describe, expect, it } from "vitest";
import { DataFrame } from "danfojs-node";
import { classTable, comparisonTable, historyTable, isTable, tableHtml, tableText } from "../../src/report/tables";
import type { History } from "../../src/training/training";

const history = (loss: number[], accuracy: number[], valLoss: number[], valAccuracy: number[]): History => ({
  epoch: loss.map((_, i) => i),
  // without validation, no val_ entries, as fit leaves them
  history: { loss, accuracy, ...(valLoss.length > 0 ? { val_loss: valLoss, val_accuracy: valAccuracy } : {}), seconds: loss.map((_, i) => 10 + i) },
  params: { epochs: loss.length, batchSize: 128, steps: 375, samples: 48000, validationSamples: 12000, metrics: ["loss", "accuracy", "val_loss", "val_accuracy"] },
});

const h1 = history([0.5, 0.1], [0.84, 0.99], [0.07, 0.05], [0.979, 0.987]);
const h2 = history([0.6, 0.2], [0.8, 0.97], [0.06, 0.04], [0.98, 0.989]);

describe("historyTable", () => {
  it("has a row per epoch (numbered from 1) and Keras's column names plus seconds", () => {
    const df = historyTable(h1);
    expect(df.columns).toEqual(["loss", "accuracy", "val_loss", "val_accuracy", "seconds"]);
    expect(df.index).toEqual([1, 2]);
    expect(df.values).toEqual([
      [0.5, 0.84, 0.07, 0.979, 10],
      [0.1, 0.99, 0.05, 0.987, 11],
    ]);
  });

  it("leaves out validation columns when there was no validation, and copes with no epochs", () => {
    const noVal = historyTable(history([0.5], [0.8], [], []));
    expect(noVal.columns).toEqual(["loss", "accuracy", "seconds"]);
    expect(historyTable(history([], [], [], [])).shape).toEqual([0, 3]);
  });

  it("has a column for each metric compiled, in fit's order (loss and metrics, their val_ twins, seconds)", () => {
    const logged: History = {
      epoch: [0],
      history: { loss: [0.5], seconds: [9], val_loss: [0.6], mae: [0.1], val_mae: [0.2] },
      params: { ...h1.params, epochs: 1, metrics: ["loss", "mae", "val_loss", "val_mae"] },
    };
    const df = historyTable(logged);
    expect(df.columns).toEqual(["loss", "mae", "val_loss", "val_mae", "seconds"]);
    expect(df.values).toEqual([[0.5, 0.1, 0.6, 0.2, 9]]);
  });
});

describe("comparisonTable", () => {
  it("puts both models side by side with gaps, seconds per epoch and test metrics", () => {
    const df = comparisonTable({ model_1: { history: h1, test: { loss: 0.03, accuracy: 0.99 } }, model_2: { history: h2 } });
    expect(df.index).toEqual(["model_1", "model_2"]);
    const row = Object.fromEntries((df.columns as string[]).map((c, j) => [c, (df.values as number[][])[0]![j]]));
    expect(row["accuracy_gap"]).toBeCloseTo(0.99 - 0.987, 10);
    expect(row["loss_gap"]).toBeCloseTo(0.05 - 0.1, 10);
    expect(row["seconds_per_epoch"]).toBe(10.5);
    expect(row["best_val_loss_epoch"]).toBe(2);
    expect(row["test_accuracy"]).toBe(0.99);
    expect(Number.isNaN((df.values as number[][])[1]![(df.columns as string[]).indexOf("test_loss")])).toBe(true);
  });
});

describe("table rendering", () => {
  it("renders HTML with a header, an index column and 4-decimal metrics", () => {
    const html = tableHtml(historyTable(h1));
    expect(html).toMatch(/^<table class="dataframe"/);
    expect(html).toContain("<th>val_accuracy</th>");
    expect(html).toContain("<tr><th>2</th><td>0.1000</td><td>0.9900</td><td>0.0500</td><td>0.9870</td><td>11.0</td></tr>");
  });

  it("escapes HTML in labels and aligns plain text", () => {
    const df = comparisonTable({ "<b>model</b>": { history: h1 } });
    expect(tableHtml(df)).toContain("<th>&lt;b&gt;model&lt;/b&gt;</th>");
    const text = tableText(historyTable(h1)).split("\n");
    expect(text).toHaveLength(3);
    expect(text[0]).toBe("     loss  accuracy  val_loss  val_accuracy  seconds");
    expect(text[2]).toBe("2  0.1000    0.9900    0.0500        0.9870     11.0");
  });
});

describe("classTable", () => {
  it("has precision, recall and support per class, rows named by class", () => {
    const df = classTable([[8, 2], [1, 9]], ["Sneaker", "Ankle boot"]);
    expect(df.index).toEqual(["Sneaker", "Ankle boot"]);
    expect(df.columns).toEqual(["precision", "recall", "support"]);
    expect(df.values).toEqual([[8 / 9, 0.8, 10], [9 / 11, 0.9, 10]]);
    expect(tableText(df).split("\n")[1]).toBe("Sneaker        0.8889  0.8000       10");
  });
});

describe("isTable", () => {
  it("knows our tables and a student's own DataFrame, and nothing else", () => {
    expect(isTable(historyTable(h1))).toBe(true);
    expect(isTable(new DataFrame({ a: [1, 2] }))).toBe(true);
    expect(isTable({ columns: ["a"] })).toBe(false);
    expect(isTable(Object.create(null))).toBe(false);
    expect(isTable("DataFrame")).toBe(false);
    const Lookalike = class DataFrame {}; // same name, not danfojs's
    expect(isTable(new Lookalike())).toBe(false);
  });
});

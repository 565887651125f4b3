/**
 * What a trained model gets right and wrong, in numbers a student can cite:
 * class probabilities on a data set, the confusion matrix, per-class
 * precision and recall, the most confident mistakes, and the generalisation
 * figures behind questions 11 and 15.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import type { Network } from "../core/network";
import { tf } from "../core/backend";
import { batchRanges } from "../core/batches";
import { UserError } from "../core/errors";
import { predictions } from "../engine";
import type { History } from "../training/training";

/** Class probabilities for every example of `x`, row by row (N × classes), computed in batches. */
export function predictProbabilities(
  model: Network,
  x: Tensor,
  batchSize = 256,
): { values: Float32Array; classes: number } {
  const n = x.shape[0] ?? 0;
  const parts: Float32Array[] = [];
  let classes = 0;
  for (const [start, size] of batchRanges(n, batchSize)) {
    const probabilities = tf.tidy(() => predictions(model, x.slice(start, size)));
    classes = probabilities.shape[1] ?? 0;
    parts.push(probabilities.dataSync() as Float32Array);
    probabilities.dispose();
  }
  const values = new Float32Array(n * classes);
  let offset = 0;
  for (const part of parts) {
    values.set(part, offset);
    offset += part.length;
  }
  return { values, classes };
}

/** Index of the largest of each row. */
export function argMaxRows(values: ArrayLike<number>, classes: number): number[] {
  const out: number[] = [];
  for (let row = 0; row * classes < values.length; row++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[row * classes + c]! > values[row * classes + best]!) best = c;
    out.push(best);
  }
  return out;
}

/** matrix[true][predicted] = how many examples of class `true` were predicted as `predicted`. */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  if (labels.length !== predicted.length) {
    throw new UserError(`confusionMatrix: ${labels.length} labels but ${predicted.length} predictions.`);
  }
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) matrix[labels[i]!]![predicted[i]!]! += 1;
  return matrix;
}

export interface ClassMetrics {
  /** Of the examples predicted as the class, the share that are it (NaN if none were). */
  precision: number[];
  /** Of the examples of the class, the share predicted as it (NaN if there are none). */
  recall: number[];
  support: number[];
}

export function perClassMetrics(matrix: number[][]): ClassMetrics {
  const support = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const predictedAs = matrix[0]!.map((_, c) => matrix.reduce((sum, row) => sum + row[c]!, 0));
  return {
    precision: matrix.map((row, c) => (predictedAs[c]! === 0 ? NaN : row[c]! / predictedAs[c]!)),
    recall: matrix.map((row, c) => (support[c]! === 0 ? NaN : row[c]! / support[c]!)),
    support,
  };
}

export interface Mistake {
  index: number;
  label: number;
  predicted: number;
  /** The probability the model gave its (wrong) prediction. */
  confidence: number;
}

/** The `count` wrong predictions made with the highest probability, most confident first. */
export function confidentMistakes(
  probabilities: ArrayLike<number>,
  classes: number,
  labels: ArrayLike<number>,
  count: number,
): Mistake[] {
  const predicted = argMaxRows(probabilities, classes);
  const mistakes: Mistake[] = [];
  predicted.forEach((p, index) => {
    if (p !== labels[index])
      mistakes.push({ index, label: labels[index]!, predicted: p, confidence: probabilities[index * classes + p]! });
  });
  return mistakes.sort((a, b) => b.confidence - a.confidence || a.index - b.index).slice(0, count);
}

/** The figures behind questions 11 and 15. Without validation data the validation figures are NaN. */
export interface Generalisation {
  epochs: number;
  trainAccuracy: number;
  valAccuracy: number;
  /** train − validation accuracy: above 0, the model does better on what it trained on. */
  accuracyGap: number;
  trainLoss: number;
  valLoss: number;
  /** validation − train loss. */
  lossGap: number;
  /** Epoch (from 1) with the lowest validation loss, and that loss. */
  bestValLossEpoch: number;
  bestValLoss: number;
}

export function generalisation(history: History): Generalisation {
  const h = history.history;
  const epochs = history.epoch.length;
  if (epochs === 0) throw new UserError("generalisation: the history has no finished epoch.");
  const last = (values: number[] | undefined) => values?.[epochs - 1] ?? NaN;
  const valLoss = h.val_loss ?? [];
  const best =
    valLoss.length === 0 ? -1 : valLoss.reduce((bestIndex, v, i) => (v < valLoss[bestIndex]! ? i : bestIndex), 0);
  return {
    epochs,
    trainAccuracy: last(h.accuracy),
    valAccuracy: last(h.val_accuracy),
    accuracyGap: last(h.accuracy) - last(h.val_accuracy),
    trainLoss: last(h.loss),
    valLoss: last(h.val_loss),
    lossGap: last(h.val_loss) - last(h.loss),
    bestValLossEpoch: best < 0 ? NaN : best + 1,
    bestValLoss: valLoss[best] ?? NaN,
  };
}

const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(4)}`;

/** One sentence of generalisation figures for an answer to cite. */
export function describeGeneralisation(name: string, history: History): string {
  const g = generalisation(history);
  const after = `${name}: after ${g.epochs} epoch${g.epochs === 1 ? "" : "s"}`;
  if (Number.isNaN(g.valLoss)) {
    return (
      `${after}, training accuracy ${g.trainAccuracy.toFixed(4)} and training loss ${g.trainLoss.toFixed(4)}; ` +
      "no validation data (validationSplit 0), so nothing shows how it does on examples it did not train on."
    );
  }
  const trend =
    g.bestValLossEpoch < g.epochs
      ? `lowest at epoch ${g.bestValLossEpoch} of ${g.epochs} (${g.bestValLoss.toFixed(4)}) ` +
        `and ${g.valLoss.toFixed(4)} at the end`
      : `lowest at the last epoch (${g.bestValLoss.toFixed(4)})`;
  return (
    `${after}, training accuracy ${g.trainAccuracy.toFixed(4)} against validation ${g.valAccuracy.toFixed(4)} ` +
    `(gap ${signed(g.accuracyGap)}); training loss ${g.trainLoss.toFixed(4)} against validation ` +
    `${g.valLoss.toFixed(4)} ` +
    `(gap ${signed(g.lossGap)}); validation loss was ${trend}.`
  );
}

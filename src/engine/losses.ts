/**
 * Keras's losses and its "accuracy", as Keras 3 computes them on TensorFlow.
 * A cross-entropy whose output layer ends in the matching activation (softmax
 * for the categorical ones, sigmoid for the binary one) is computed from that
 * activation's input, the logits, which stays exact where a probability
 * underflows (Keras does the same: it finds the logits under the softmax).
 * Otherwise the loss takes the model's output, clipped to [1e-7, 1 − 1e-7]
 * where Keras clips it. Each loss is per example; the batch's loss is their
 * mean.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import type { NativeOps } from "./kernels";
import { withGradient } from "./tape";

const LOSSES = [
  "categoricalCrossentropy",
  "sparseCategoricalCrossentropy",
  "binaryCrossentropy",
  "meanSquaredError",
] as const;
export type LossName = (typeof LOSSES)[number];

/** Keras's spellings (and tfjs's) of each loss, as `compile` may be given them. */
const ALIASES: Record<string, LossName> = {
  categoricalCrossentropy: "categoricalCrossentropy",
  categorical_crossentropy: "categoricalCrossentropy",
  sparseCategoricalCrossentropy: "sparseCategoricalCrossentropy",
  sparse_categorical_crossentropy: "sparseCategoricalCrossentropy",
  binaryCrossentropy: "binaryCrossentropy",
  binary_crossentropy: "binaryCrossentropy",
  meanSquaredError: "meanSquaredError",
  mean_squared_error: "meanSquaredError",
  mse: "meanSquaredError",
  MSE: "meanSquaredError",
};

/** The loss `compile` was given, by Keras's name, or null for one the engine does not compute. */
export function lossNamed(loss: unknown): LossName | null {
  return typeof loss === "string" ? (ALIASES[loss] ?? null) : null;
}

/** What the loss is computed from: the logits under a softmax or a sigmoid, or the model's output itself. */
export type LossInput = "softmax logits" | "sigmoid logits" | "output";

export interface Head {
  loss: LossName;
  input: LossInput;
}

/** Which input a loss takes when the model's last activation is `activation`. */
export function headFor(loss: LossName, activation: string | null): Head {
  if (activation === "softmax" && (loss === "categoricalCrossentropy" || loss === "sparseCategoricalCrossentropy"))
    return { loss, input: "softmax logits" };
  if (activation === "sigmoid" && loss === "binaryCrossentropy") return { loss, input: "sigmoid logits" };
  return { loss, input: "output" };
}

/** Keras's backend epsilon, to which probabilities are clipped. */
const EPSILON = 1e-7;

/** Integer labels as one vector of class indices ([n] or [n, 1] given). */
const classIndices = (labels: Tensor) => tf.cast(labels.rank === 2 ? tf.reshape(labels, [-1]) : labels, "int32");

/** Each example's loss from the model's output (probabilities), as Keras computes it; differentiable on tfjs's tape. */
function fromOutput(loss: LossName, p: Tensor, labels: Tensor): Tensor {
  const clip = (t: Tensor) => tf.clipByValue(t, EPSILON, 1 - EPSILON);
  switch (loss) {
    case "meanSquaredError":
      return tf.mean(tf.square(tf.sub(labels, p)), -1);
    case "binaryCrossentropy": {
      const q = clip(p);
      return tf.neg(tf.mean(tf.add(tf.mul(labels, tf.log(q)), tf.mul(tf.sub(1, labels), tf.log(tf.sub(1, q)))), -1));
    }
    case "categoricalCrossentropy":
      return tf.neg(tf.sum(tf.mul(labels, tf.log(clip(tf.div(p, tf.sum(p, -1, true))))), -1));
    case "sparseCategoricalCrossentropy": {
      // Keras clips (without normalizing first, unlike the categorical one) and takes the log, then the sparse softmax
      // cross-entropy of that
      const logP = tf.log(clip(p));
      const picked = tf.sum(tf.mul(logP, tf.oneHot(classIndices(labels), p.shape[p.rank - 1]!)), -1);
      return tf.sub(tf.logSumExp(logP, -1), picked);
    }
  }
}

/** Each example's loss from the sigmoid's logits z: max(z, 0) − z·y + log(1 + e^−|z|), averaged over the last axis. */
function sigmoidCrossEntropy(z: Tensor, labels: Tensor): Tensor {
  return tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(z))))), -1);
}

/** Labels of one value per example for a one-unit output, as Keras takes them: [n] becomes [n, 1]. */
const matching = (loss: LossName, z: Tensor, labels: Tensor) =>
  loss !== "sparseCategoricalCrossentropy" && labels.rank === z.rank - 1 ? tf.expandDims(labels, -1) : labels;

/** Each example's loss from the head's input, on tfjs's tape (the taped step and evaluation). */
export function exampleLosses(head: Head, ops: NativeOps | null, z: Tensor, given: Tensor): Tensor {
  const labels = matching(head.loss, z, given);
  if (head.input === "sigmoid logits") return sigmoidCrossEntropy(z, labels);
  if (head.input === "output") return fromOutput(head.loss, z, labels);
  const sparse = head.loss === "sparseCategoricalCrossentropy";
  if (ops === null) {
    const oneHot = sparse ? tf.oneHot(classIndices(labels), z.shape[z.rank - 1]!) : labels;
    return tf.losses.softmaxCrossEntropy(oneHot, z, undefined, undefined, tf.Reduction.NONE);
  }
  const ids = sparse ? classIndices(labels) : labels;
  // TensorFlow's one op for the loss and its gradient, recorded as one op on the tape
  const op = withGradient(
    ([logits]) => {
      const [losses, gradient] = sparse
        ? ops.sparseSoftmaxCrossEntropy(logits!, ids)
        : ops.softmaxCrossEntropy(logits!, ids);
      return { value: losses, saved: [gradient] };
    },
    (dy, [g]) => [tf.mul(g!, tf.expandDims(dy, -1))],
  );
  return op(z);
}

/** Each example's loss and the gradient of their sum by the head's input, with no tape where TensorFlow has the op. */
export function lossAndGradient(
  head: Head,
  ops: NativeOps,
  z: Tensor,
  given: Tensor,
): [losses: Tensor, gradient: Tensor] {
  const labels = matching(head.loss, z, given);
  if (head.input === "softmax logits") {
    return head.loss === "sparseCategoricalCrossentropy"
      ? ops.sparseSoftmaxCrossEntropy(z, classIndices(labels))
      : ops.softmaxCrossEntropy(z, labels);
  }
  if (head.input === "sigmoid logits") {
    // d/dz of the mean over the last axis: (sigmoid(z) − y) / units
    const units = z.shape[z.rank - 1]!;
    return [sigmoidCrossEntropy(z, labels), tf.div(tf.sub(ops.float("Sigmoid", [z]), labels), units)];
  }
  const { value, grad } = tf.valueAndGrad((p: Tensor) => tf.sum(fromOutput(head.loss, p, labels)))(z);
  value.dispose();
  return [fromOutput(head.loss, z, labels), grad];
}

/**
 * Keras 3's "accuracy" for this output and these labels: binary accuracy for
 * one output unit, sparse categorical accuracy for one class index per
 * example, categorical accuracy otherwise.
 */
export type AccuracyKind = "binary" | "sparse categorical" | "categorical";

export function accuracyKind(outputShape: number[], labelShape: number[]): AccuracyKind {
  const units = outputShape[outputShape.length - 1];
  if (units === 1) return "binary";
  return labelShape.length < outputShape.length || (labelShape[labelShape.length - 1] === 1 && units! > 1)
    ? "sparse categorical"
    : "categorical";
}

/** The model's output from the head's input: the softmax or sigmoid the loss took the logits of, applied. */
export function outputFromHead(head: Head, z: Tensor): Tensor {
  if (head.input === "softmax logits") return tf.softmax(z);
  if (head.input === "sigmoid logits") return tf.sigmoid(z);
  return z;
}

/**
 * A metric as Keras computes it: one value per example, averaged over the examples; logged under the name it was given.
 */
export interface Metric {
  readonly name: string;
  perExample(head: Head, z: Tensor, labels: Tensor): Tensor;
}

/** Each example's 1 or 0 (binary: the fraction of units right) under one of Keras's accuracies. */
function accuracyPerExample(kind: AccuracyKind | null, head: Head, z: Tensor, given: Tensor): Tensor {
  const labels = matching(head.loss, z, given);
  const k = kind ?? accuracyKind(z.shape, labels.shape);
  if (k === "binary") {
    const predicted = head.input === "sigmoid logits" ? tf.greater(z, 0) : tf.greater(outputFromHead(head, z), 0.5);
    return tf.mean(tf.cast(tf.equal(tf.cast(predicted, "float32"), tf.cast(labels, "float32")), "float32"), -1);
  }
  const truth = k === "sparse categorical" ? classIndices(labels) : tf.argMax(labels, -1);
  return tf.cast(tf.equal(tf.argMax(z, -1), truth), "float32");
}

const fromProbabilities = (loss: LossName) => (head: Head, z: Tensor, labels: Tensor) =>
  fromOutput(loss, outputFromHead(head, z), matching(loss, z, labels));

/** Keras's stateless metrics by each name Keras and tfjs accept. */
const METRICS: Record<string, (head: Head, z: Tensor, labels: Tensor) => Tensor> = {
  accuracy: (head, z, labels) => accuracyPerExample(null, head, z, labels),
  acc: (head, z, labels) => accuracyPerExample(null, head, z, labels),
  binary_accuracy: (head, z, labels) => accuracyPerExample("binary", head, z, labels),
  categorical_accuracy: (head, z, labels) => accuracyPerExample("categorical", head, z, labels),
  sparse_categorical_accuracy: (head, z, labels) => accuracyPerExample("sparse categorical", head, z, labels),
  mean_squared_error: fromProbabilities("meanSquaredError"),
  mean_absolute_error: (head, z, labels) =>
    tf.mean(tf.abs(tf.sub(matching("meanSquaredError", z, labels), outputFromHead(head, z))), -1),
  categorical_crossentropy: fromProbabilities("categoricalCrossentropy"),
  sparse_categorical_crossentropy: fromProbabilities("sparseCategoricalCrossentropy"),
  binary_crossentropy: fromProbabilities("binaryCrossentropy"),
};
const METRIC_ALIASES: Record<string, string> = {
  mse: "mean_squared_error",
  MSE: "mean_squared_error",
  meanSquaredError: "mean_squared_error",
  mae: "mean_absolute_error",
  MAE: "mean_absolute_error",
  meanAbsoluteError: "mean_absolute_error",
  binaryAccuracy: "binary_accuracy",
  categoricalAccuracy: "categorical_accuracy",
  sparseCategoricalAccuracy: "sparse_categorical_accuracy",
  categoricalCrossentropy: "categorical_crossentropy",
  sparseCategoricalCrossentropy: "sparse_categorical_crossentropy",
  binaryCrossentropy: "binary_crossentropy",
};

/** The names `metricNamed` knows, for an error that lists them. */
export const METRIC_NAMES = [
  "accuracy",
  "mse",
  "mae",
  ...Object.keys(METRICS).filter((n) => n !== "accuracy" && n !== "acc" && !n.startsWith("mean_")),
];

/**
 * The metric `compile` was given by name, or null for one computed here not at all (stateful ones: AUC, precision,
 * recall).
 */
export function metricNamed(name: unknown): Metric | null {
  if (typeof name !== "string") return null;
  const f = METRICS[name] ?? METRICS[METRIC_ALIASES[name] ?? ""];
  return f === undefined ? null : { name, perExample: f };
}

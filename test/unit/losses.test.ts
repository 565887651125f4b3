/**
 * Each loss against Keras's own value on one fixed batch. The Keras figures
 * were printed by bench/keras_losses.py (Keras 3.15.1 on TensorFlow 2.21, in
 * the bench's .venv-bench) on 2026-12-06; the same batch is built here.
 * Each gradient is checked against tfjs's tape over the loss written out.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { nativeOps } from "../../src/engine/kernels";
import { accuracyKind, exampleLosses, headFor, lossAndGradient, lossNamed, metricNamed, type Head, type LossName } from "../../src/engine/losses";

const ops = nativeOps()!;
const z = tf.tensor2d([[2, -1, 0.5, 0], [-3, 4, 1, -0.5], [0.1, 0.2, -0.3, 8]]);
const oneHot = tf.tensor2d([[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
const ids = tf.tensor1d([0, 2, 3], "int32");
const multi = tf.tensor2d([[1, 0, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1]]);

const KERAS = {
  cce_softmax: [0.342349648475647, 3.0599730014801025, 0.0010284854797646403],
  sparse_softmax: [0.342349648475647, 3.0599730014801025, 0.0010284854797646403],
  cce_relu_output: [0.2231435477733612, 1.6094379425048828, 0.03681401163339615],
  sparse_relu_output: [0.40546533465385437, 0.6931471824645996, 0.26236432790756226],
  mse_softmax: [0.029908042401075363, 0.44887474179267883, 3.5575095580497873e-07],
  bce_sigmoid: [0.4018534719944, 0.21351899206638336, 0.52430659532547],
  bce_softmax_output: [0.5804328322410583, 0.7828307151794434, 0.0005141488509252667],
};

const cases: Array<[keyof typeof KERAS, LossName, string, Tensor, Tensor]> = [
  // [Keras's figure, loss, the output layer's activation, what the head takes, labels]
  ["cce_softmax", "categoricalCrossentropy", "softmax", z, oneHot],
  ["sparse_softmax", "sparseCategoricalCrossentropy", "softmax", z, ids],
  ["cce_relu_output", "categoricalCrossentropy", "relu", tf.relu(z), oneHot],
  ["sparse_relu_output", "sparseCategoricalCrossentropy", "relu", tf.relu(z), ids],
  ["mse_softmax", "meanSquaredError", "softmax", tf.softmax(z), oneHot],
  ["bce_sigmoid", "binaryCrossentropy", "sigmoid", z, multi],
  ["bce_softmax_output", "binaryCrossentropy", "softmax", tf.softmax(z), multi],
];

describe("losses as Keras computes them", () => {
  it.each(cases)("%s: each example's loss equals Keras's, and its gradient the tape's", (figure, loss, activation, input, labels) => {
    const head: Head = headFor(loss, activation);
    expect(head.input).toBe(activation === "softmax" && loss !== "meanSquaredError" && loss !== "binaryCrossentropy" ? "softmax logits" : activation === "sigmoid" ? "sigmoid logits" : "output");
    const taped = Array.from(exampleLosses(head, ops, input, labels).dataSync());
    const [losses, gradient] = lossAndGradient(head, ops, input, labels);
    Array.from(losses.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(KERAS[figure][i]!, 5));
    taped.forEach((v, i) => expect(v).toBeCloseTo(KERAS[figure][i]!, 5));
    const reference = tf.grad((t: Tensor) => tf.sum(exampleLosses(head, null, t, labels)))(input);
    const diff = tf.max(tf.abs(tf.sub(gradient, reference))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-5);
  });

  it("the binary cross-entropy from logits stays finite and exact where the sigmoid saturates", () => {
    const head = headFor("binaryCrossentropy", "sigmoid");
    const [losses] = lossAndGradient(head, ops, tf.tensor2d([[-100], [100]]), tf.tensor2d([[1], [0]]));
    // −log σ(−100) = 100 for both, where a clipped probability would give −log(1e−7) ≈ 16.1
    Array.from(losses.dataSync()).forEach((v) => expect(v).toBeCloseTo(100, 3));
  });

  it("takes one label per example for a one-unit output, as Keras does ([n] as [n, 1])", () => {
    const head = headFor("binaryCrossentropy", "sigmoid");
    const logits = tf.tensor2d([[2], [-1], [0.5]]);
    const [flat] = lossAndGradient(head, ops, logits, tf.tensor1d([1, 0, 0]));
    const [column] = lossAndGradient(head, ops, logits, tf.tensor2d([[1], [0], [0]]));
    expect(flat.shape).toEqual([3]);
    expect(Array.from(flat.dataSync())).toEqual(Array.from(column.dataSync()));
  });

  it("takes Keras's and tfjs's spellings of each loss", () => {
    expect(lossNamed("categorical_crossentropy")).toBe("categoricalCrossentropy");
    expect(lossNamed("sparse_categorical_crossentropy")).toBe("sparseCategoricalCrossentropy");
    expect(lossNamed("mse")).toBe("meanSquaredError");
    expect(lossNamed("binaryCrossentropy")).toBe("binaryCrossentropy");
    expect(lossNamed("hinge")).toBeNull();
  });
});

describe("Keras 3's accuracy, chosen by the shapes of output and labels", () => {
  it("is binary for one unit, sparse for class numbers, categorical otherwise", () => {
    expect(accuracyKind([8, 1], [8, 1])).toBe("binary");
    expect(accuracyKind([8, 10], [8])).toBe("sparse categorical");
    expect(accuracyKind([8, 10], [8, 1])).toBe("sparse categorical");
    expect(accuracyKind([8, 10], [8, 10])).toBe("categorical");
  });

  it("counts right answers as Keras's accuracy does", () => {
    const correctCount = (head: Head, z: Tensor, labels: Tensor) => tf.sum(metricNamed("accuracy")!.perExample(head, z, labels));
    // argmax of z: 0, 1, 3; labels 0, 2, 3
    expect(correctCount(headFor("categoricalCrossentropy", "softmax"), z, oneHot).dataSync()[0]).toBe(2);
    expect(correctCount(headFor("sparseCategoricalCrossentropy", "softmax"), z, ids).dataSync()[0]).toBe(2);
    expect(correctCount(headFor("sparseCategoricalCrossentropy", "softmax"), z, tf.reshape(ids, [3, 1])).dataSync()[0]).toBe(2);
    // one sigmoid unit: logit > 0 is class 1; labels 1, 0, 0 against logits 2, −3, 0.1
    const binary = correctCount(headFor("binaryCrossentropy", "sigmoid"), tf.tensor2d([[2], [-3], [0.1]]), tf.tensor2d([[1], [0], [0]]));
    expect(binary.dataSync()[0]).toBe(2);
    // the same as probabilities, thresholded at 0.5
    const probabilities = correctCount(headFor("meanSquaredError", "sigmoid"), tf.tensor2d([[0.9], [0.2], [0.6]]), tf.tensor2d([[1], [0], [0]]));
    expect(probabilities.dataSync()[0]).toBe(2);
  });
});

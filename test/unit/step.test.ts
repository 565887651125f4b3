import type { Scalar, Tensor, Variable } from "@tensorflow/tfjs-node";
import type { Layer, Network } from "../../src/core/network";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { lossInput, predictions } from "../../src/engine/forward";
import { kerasLayers } from "../../src/training/sequential";
import { buildConvNet } from "../../src/training/models";
import { planFor } from "../../src/engine/stages";
import { evaluationTotals, trainingStep } from "../../src/engine/step";
import { metricNamed } from "../../src/engine/losses";

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
const variablesOf = (model: Network) => model.trainableWeights.map((w) => w.read() as Variable);

/** Mean cross-entropy from tfjs-layers' own forward pass (probabilities), plus the layers' regularization. */
const referenceLoss = (model: Network, x: Tensor, y: Tensor) => () => {
  const mean = tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(model.apply(x, { training: true }) as Tensor)), -1)));
  return tf.addN([mean, ...model.layers.flatMap((l) => l.calculateLosses())]) as Scalar;
};

/** A student's edit of model 2: 48 filters, a third Conv2D, the first dropout moved after it. */
function edited() {
  const layers = kerasLayers(9);
  const model = layers.sequential();
  model.add(layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
  model.add(layers.conv2d({ filters: 48, kernelSize: [3, 3], activation: "relu" }));
  model.add(layers.conv2d({ filters: 16, kernelSize: [5, 5], activation: "relu" }));
  model.add(layers.dropout({ rate: 0.25 }));
  model.add(layers.maxPooling2d({ poolSize: [2, 2] }));
  model.add(layers.flatten());
  model.add(layers.dense({ units: 64, activation: "relu" }));
  model.add(layers.dense({ units: 10, activation: "softmax" }));
  return model;
}

/** The other forms a stage takes: no bias, linear activation, pooling on its own and first, a 3×3 pool. */
function otherStages() {
  const layers = kerasLayers(4);
  const model = layers.sequential();
  model.add(layers.maxPooling2d({ poolSize: [2, 2], inputShape: [28, 28, 1] }));
  model.add(layers.conv2d({ filters: 8, kernelSize: [3, 3], activation: "linear", useBias: false }));
  model.add(layers.conv2d({ filters: 6, kernelSize: [3, 3], activation: "relu" }));
  model.add(layers.maxPooling2d({ poolSize: [3, 3] }));
  model.add(layers.flatten());
  model.add(layers.dense({ units: 12, activation: "linear" }));
  model.add(layers.dense({ units: 10, activation: "softmax", useBias: false }));
  return model;
}

type Factory = ReturnType<typeof kerasLayers>;

/** A model of `body`'s layers on 12×12 images, then Flatten (unless `flat`) and Dense(10, softmax): one of a student's edits. */
function around(seed: number, body: (layers: Factory) => Layer[], { flat = false } = {}) {
  return () => {
    const layers = kerasLayers(seed);
    const model = layers.sequential();
    for (const layer of body(layers)) model.add(layer);
    if (!flat) model.add(layers.flatten());
    model.add(layers.dense({ units: 10, activation: "softmax" }));
    return model;
  };
}

const input = { inputShape: [12, 12, 2] };

/** The layers a convnet course changes, each on the fast path. */
const edits: Array<[string, () => Network]> = [
  ["padding same and strides 2", around(3, (l) => [
    l.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu", ...input }),
    l.conv2d({ filters: 5, kernelSize: [3, 2], strides: 2, activation: "relu" }),
    l.conv2d({ filters: 3, kernelSize: 2, strides: [1, 2], padding: "same", activation: "linear" }),
  ])],
  ["each activation TensorFlow has as an op, in convolutions and Dense", around(4, (l) => [
    l.conv2d({ filters: 4, kernelSize: 3, activation: "tanh", ...input }),
    l.conv2d({ filters: 4, kernelSize: 3, activation: "sigmoid" }),
    l.conv2d({ filters: 4, kernelSize: 1, activation: "elu" }),
    l.conv2d({ filters: 4, kernelSize: 1, activation: "selu" }),
    l.conv2d({ filters: 4, kernelSize: 1, activation: "softplus" }),
    l.conv2d({ filters: 4, kernelSize: 1, activation: "softsign" }),
    l.conv2d({ filters: 4, kernelSize: 1, activation: "relu6" }),
    l.flatten(),
    l.dense({ units: 12, activation: "tanh" }),
    l.dense({ units: 11, activation: "softmax" }),
  ], { flat: true })],
  ["activations tfjs-layers computes (swish, hardSigmoid, gelu, gelu_new, mish)", around(5, (l) => [
    l.conv2d({ filters: 4, kernelSize: 3, activation: "swish", ...input }),
    l.conv2d({ filters: 4, kernelSize: 3, activation: "hardSigmoid" }),
    l.conv2d({ filters: 4, kernelSize: 1, activation: "gelu" }),
    l.conv2d({ filters: 4, kernelSize: 1, activation: "gelu_new" }),
    l.conv2d({ filters: 4, kernelSize: 1, activation: "mish" }),
  ])],
  ["activation layers: Activation, ReLU (capped at 6 and not), LeakyReLU, ELU, Softmax", around(6, (l) => [
    l.conv2d({ filters: 4, kernelSize: 3, ...input }),
    l.activation({ activation: "tanh" }),
    l.conv2d({ filters: 4, kernelSize: 3 }),
    l.reLU(),
    l.conv2d({ filters: 4, kernelSize: 1 }),
    l.reLU({ maxValue: 6 }),
    l.conv2d({ filters: 4, kernelSize: 1 }),
    l.reLU({ maxValue: 0.5 }),
    l.conv2d({ filters: 4, kernelSize: 1 }),
    l.leakyReLU({ alpha: 0.2 }),
    l.conv2d({ filters: 4, kernelSize: 1 }),
    l.elu(),
    l.conv2d({ filters: 4, kernelSize: 1 }),
    l.softmax(),
  ])],
  ["max-pooling fused with tanh, overlapping and 'same'; average pooling", around(7, (l) => [
    l.conv2d({ filters: 4, kernelSize: 3, activation: "tanh", ...input }),
    l.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }),
    l.conv2d({ filters: 5, kernelSize: 2, activation: "relu" }),
    l.averagePooling2d({ poolSize: 2 }),
    l.averagePooling2d({ poolSize: 2, strides: 1, padding: "same" }),
  ])],
  ["global average and global max pooling", around(8, (l) => [
    l.conv2d({ filters: 6, kernelSize: 3, activation: "relu", ...input }),
    l.globalAveragePooling2d(),
    l.reshape({ targetShape: [3, 2, 1] }),
    l.conv2d({ filters: 4, kernelSize: 1, activation: "relu" }),
    l.globalMaxPooling2d(),
  ], { flat: true })],
  ["batch normalization after a convolution and after a Dense layer", around(9, (l) => [
    l.conv2d({ filters: 4, kernelSize: 3, activation: "relu", ...input }),
    l.batchNormalization(),
    l.conv2d({ filters: 5, kernelSize: 3, useBias: false }),
    l.batchNormalization({ momentum: 0.9, epsilon: 0.01 }),
    l.flatten(),
    l.dense({ units: 16 }),
    l.batchNormalization(),
    l.reLU(),
  ], { flat: true })],
  ["dropout after the first convolution, and spatial dropout", around(10, (l) => [
    l.conv2d({ filters: 4, kernelSize: 3, activation: "relu", ...input }),
    l.dropout({ rate: 0.3 }),
    l.conv2d({ filters: 6, kernelSize: 3, activation: "relu" }),
    l.spatialDropout2d({ rate: 0.5 }),
  ])],
];

/** A layer no stage knows (zero padding), run by tfjs-layers inside the fast path. */
function unknownLayers() {
  const layers = kerasLayers(9);
  const model = layers.sequential();
  model.add(layers.conv2d({ filters: 8, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
  model.add(tf.layers.zeroPadding2d({ padding: 1 }));
  model.add(layers.conv2d({ filters: 16, kernelSize: [3, 3], activation: "tanh" }));
  model.add(layers.flatten());
  model.add(layers.dense({ units: 10, activation: "softmax" }));
  return model;
}

/** A Dense layer with L2 regularization, which Keras adds to the loss it differentiates. */
function regularized() {
  const layers = kerasLayers(5);
  const model = layers.sequential();
  model.add(layers.conv2d({ filters: 4, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
  model.add(layers.flatten());
  model.add(layers.dense({ units: 16, activation: "relu", kernelRegularizer: tf.regularizers.l2({ l2: 0.5 }) }));
  model.add(layers.dense({ units: 10, activation: "softmax" }));
  return model;
}

const cases: Array<[string, () => Network, boolean]> = [
  ["model 1", () => buildConvNet({ seed: 9 }), true],
  ["model 2", () => buildConvNet({ seed: 9, dropoutConv: 0.25, dropoutDense: 0.5 }), true],
  ["an edited model (48 filters, another Conv2D, dropout moved)", edited, true],
  ["stages without bias, linear, pooling first and 3×3", otherStages, true],
  ["a zero-padding layer, which no stage knows", unknownLayers, false],
  ["an L2-regularized Dense layer", regularized, true],
];

/**
 * Each gradient within 1e-4 of the reference's largest entry (or 1e-6, float32's noise where a
 * gradient is zero in exact arithmetic: a bias before batch normalization), in the same order
 * (the model's weights) and shapes.
 */
function expectSameGradients(ours: Record<string, Tensor>, theirs: Record<string, Tensor>) {
  const [a, b] = [Object.values(ours), Object.values(theirs)];
  expect(a.map((g) => g.shape)).toEqual(b.map((g) => g.shape));
  a.forEach((g, i) => {
    const scale = tf.max(tf.abs(b[i]!)).dataSync()[0]!;
    expect(scale).toBeGreaterThan(0);
    expect(maxAbsDiff(g, b[i]!)).toBeLessThan(Math.max(1e-4 * scale, 1e-6));
  });
}

/**
 * Triplets of one model (same seed: the same weights and dropout masks): the
 * training step's loss and gradients, staged and through the tape, equal
 * tfjs-layers' own layers differentiated by tfjs; then, in inference mode, the
 * predictions equal tfjs-layers' (batch normalization's moving statistics
 * included, which the step moved).
 */
function expectAsTfjsLayers(build: () => Network, staged: boolean, x: Tensor, y: Tensor) {
  const [fast, taped, reference] = [build(), build(), build()];
  expect(planFor(fast).native).toBe(staged);
  const theirs = tf.variableGrads(referenceLoss(reference, x, y), variablesOf(reference));

  const step = trainingStep(fast, x, y);
  expect(step.lossSum.dataSync()[0]! / x.shape[0]!).toBeCloseTo(theirs.value.dataSync()[0]!, 5);
  expectSameGradients(step.gradients, theirs.grads);

  // the tape over the staged forward pass gives the same
  const throughTape = tf.variableGrads(() => tf.add(
    tf.losses.softmaxCrossEntropy(y, lossInput(taped, x, true)),
    tf.addN([tf.scalar(0), ...taped.layers.flatMap((l) => l.calculateLosses())]),
  ) as Scalar, variablesOf(taped));
  expect(throughTape.value.dataSync()[0]).toBeCloseTo(theirs.value.dataSync()[0]!, 5);
  expectSameGradients(throughTape.grads, theirs.grads);

  for (const model of [fast, taped]) expect(maxAbsDiff(predictions(model, x), reference.predict(x) as Tensor)).toBeLessThan(1e-5);
}

describe("the training step", () => {
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5], "int32"), 10).toFloat();
  const [x, y] = [tf.randomUniform([16, 28, 28, 1], 0, 1, "float32", 5), labels];

  it.each(cases)("%s: same loss and gradients as tfjs-layers' own layers, staged and through the tape", (_, build, staged) => {
    expectAsTfjsLayers(build, staged, x, y);
  });

  it.each(edits)("a student's edit, %s: on the fast path, with tfjs-layers' numbers in training and inference", (_, build) => {
    expectAsTfjsLayers(build, true, tf.randomUniform([16, 12, 12, 2], 0, 1, "float32", 6), labels);
  });

  it("sums the loss as tfjs computes it, and each compiled metric: accuracy counts the correct predictions", () => {
    const model = buildConvNet({ seed: 2 });
    const z = lossInput(model, x, false);
    const totals = evaluationTotals(model, x, y, [metricNamed("accuracy")!, metricNamed("mae")!]);
    const expectedLoss = tf.losses.softmaxCrossEntropy(y, z, undefined, undefined, tf.Reduction.SUM).dataSync()[0]!;
    expect(totals.lossSum.dataSync()[0]).toBeCloseTo(expectedLoss, 3);
    const predicted = Array.from(z.argMax(-1).dataSync());
    const truth = Array.from(y.argMax(-1).dataSync());
    expect(totals.metricSums[0]!.dataSync()[0]).toBe(predicted.filter((p, i) => p === truth[i]).length);
    const mae = tf.sum(tf.mean(tf.abs(tf.sub(y, tf.softmax(z))), -1)).dataSync()[0]!;
    expect(totals.metricSums[1]!.dataSync()[0]).toBeCloseTo(mae, 4);
    expect(evaluationTotals(model, x, y).metricSums).toEqual([]); // none compiled, none computed
  });

  it("leaves no tensor behind but what it returns", () => {
    const model = buildConvNet({ seed: 3, dropoutConv: 0.25, dropoutDense: 0.5 });
    trainingStep(model, x, y); // first call: the plan and its constants
    const before = tf.memory().numTensors;
    const step = tf.tidy(() => {
      const s = trainingStep(model, x, y, [metricNamed("accuracy")!]);
      return [s.lossSum, ...s.metricSums];
    });
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose(step);
  });
});

describe("batch normalization's moving statistics", () => {
  it("move towards each batch's mean and (biased) variance with Keras's momentum, as tfjs-layers' own layer moves them", () => {
    const build = around(11, (l) => [l.conv2d({ filters: 3, kernelSize: 3, ...input }), l.batchNormalization({ momentum: 0.9 })]);
    const [fast, reference] = [build(), build()];
    const x = tf.randomNormal([8, 12, 12, 2], 1, 2, "float32", 12);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], "int32"), 10).toFloat();
    // the statistics of the layer's input, the convolution's output; no update, so the same every step
    const { mean, variance } = tf.moments(fast.layers[0]!.apply(x) as Tensor, [0, 1, 2]);
    for (let step = 0; step < 3; step++) {
      trainingStep(fast, x, y);
      reference.apply(x, { training: true });
    }
    const [movingMean, movingVariance] = fast.layers[1]!.getWeights().slice(2);
    const kept = 0.9 ** 3; // Keras: moving ← momentum·moving + (1 − momentum)·batch, from 0 and 1
    expect(maxAbsDiff(movingMean!, tf.mul(mean, 1 - kept))).toBeLessThan(1e-5);
    expect(maxAbsDiff(movingVariance!, tf.add(kept, tf.mul(variance, 1 - kept)))).toBeLessThan(1e-4);
    const [theirMean, theirVariance] = reference.layers[1]!.getWeights().slice(2);
    expect(maxAbsDiff(movingMean!, theirMean!)).toBeLessThan(1e-5);
    expect(maxAbsDiff(movingVariance!, theirVariance!)).toBeLessThan(1e-4);
  });
});

describe("models the training step refuses", () => {
  const x = tf.zeros([2, 28, 28, 1]);

  it("names the model that has no layers", () => {
    const model = kerasLayers(1).sequential();
    expect(() => lossInput(model, x, false)).toThrow(/The model has no layers: add some with model\.add/);
  });

  it("asks for a Flatten when the output layer gets images instead of vectors", () => {
    const layers = kerasLayers(1);
    const model = layers.sequential();
    model.add(layers.conv2d({ filters: 4, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
    model.add(layers.dense({ units: 10, activation: "softmax" }));
    expect(() => lossInput(model, x, false)).toThrow(/gets inputs of shape \[null,26,26,4\].*layers\.flatten\(\)/);
  });
});

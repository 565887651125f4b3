import type { Scalar, Tensor, Variable } from "@tensorflow/tfjs-node";
import type { Network } from "../../src/core/network";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { logits } from "../../src/engine/forward";
import { kerasLayers } from "../../src/training/sequential";
import { buildConvNet } from "../../src/training/models";
import { planFor } from "../../src/engine/stages";
import { evaluationTotals, trainingStep } from "../../src/engine/step";

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

/** Layers the fast path does not know, run by tfjs-layers inside it. */
function unknownLayers() {
  const layers = kerasLayers(9);
  const model = layers.sequential();
  model.add(layers.conv2d({ filters: 8, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
  model.add(layers.batchNormalization());
  model.add(layers.averagePooling2d({ poolSize: [2, 2] }));
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
  ["BatchNormalization, AveragePooling2D and a tanh Conv2D", unknownLayers, false],
  ["an L2-regularized Dense layer", regularized, false],
];

describe("the training step", () => {
  const x = tf.randomUniform([16, 28, 28, 1], 0, 1, "float32", 5);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5], "int32"), 10).toFloat();

  /** Each gradient within 1e-4 of the reference's largest entry, in the same order (the model's weights) and shapes. */
  function expectSameGradients(ours: Record<string, Tensor>, theirs: Record<string, Tensor>) {
    const [a, b] = [Object.values(ours), Object.values(theirs)];
    expect(a.map((g) => g.shape)).toEqual(b.map((g) => g.shape));
    a.forEach((g, i) => {
      const scale = tf.max(tf.abs(b[i]!)).dataSync()[0]!;
      expect(scale).toBeGreaterThan(0);
      expect(maxAbsDiff(g, b[i]!)).toBeLessThan(1e-4 * Math.max(scale, 1e-3));
    });
  }

  it.each(cases)("%s: same loss and gradients as tfjs-layers' own layers, staged and through the tape", (_, build, staged) => {
    // triplets: same seed, so the same weights and the same dropout masks
    const [fast, taped, reference] = [build(), build(), build()];
    expect(planFor(fast).native).toBe(staged);
    const theirs = tf.variableGrads(referenceLoss(reference, x, y), variablesOf(reference));

    const step = trainingStep(fast, x, y);
    expect(step.lossSum.dataSync()[0]! / 16).toBeCloseTo(theirs.value.dataSync()[0]!, 5);
    expectSameGradients(step.gradients, theirs.grads);

    // the tape over the staged forward pass gives the same
    const throughTape = tf.variableGrads(() => tf.add(
      tf.losses.softmaxCrossEntropy(y, logits(taped, x, true)),
      tf.addN([tf.scalar(0), ...taped.layers.flatMap((l) => l.calculateLosses())]),
    ) as Scalar, variablesOf(taped));
    expect(throughTape.value.dataSync()[0]).toBeCloseTo(theirs.value.dataSync()[0]!, 5);
    expectSameGradients(throughTape.grads, theirs.grads);
  });

  it("counts correct predictions and sums the loss as tfjs computes them", () => {
    const model = buildConvNet({ seed: 2 });
    const z = logits(model, x, false);
    const totals = evaluationTotals(model, x, y);
    const expectedLoss = tf.losses.softmaxCrossEntropy(y, z, undefined, undefined, tf.Reduction.SUM).dataSync()[0]!;
    expect(totals.lossSum.dataSync()[0]).toBeCloseTo(expectedLoss, 3);
    const predicted = Array.from(z.argMax(-1).dataSync());
    const truth = Array.from(y.argMax(-1).dataSync());
    expect(totals.correct.dataSync()[0]).toBe(predicted.filter((p, i) => p === truth[i]).length);
  });

  it("leaves no tensor behind but what it returns", () => {
    const model = buildConvNet({ seed: 3, dropoutConv: 0.25, dropoutDense: 0.5 });
    trainingStep(model, x, y); // first call: the plan and its constants
    const before = tf.memory().numTensors;
    const step = tf.tidy(() => {
      const s = trainingStep(model, x, y);
      return [s.lossSum, s.correct];
    });
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose(step);
  });
});

describe("models the training step refuses", () => {
  const x = tf.zeros([2, 28, 28, 1]);

  it("names the last layer when it is not Dense with softmax", () => {
    const layers = kerasLayers(1);
    const model = layers.sequential();
    model.add(layers.flatten({ inputShape: [28, 28, 1] }));
    model.add(layers.dense({ units: 10, activation: "relu" }));
    expect(() => logits(model, x, false)).toThrow(/last layer is dense \(Dense, activation relu\).*activation: "softmax"/);
  });

  it("asks for a Flatten when the output layer gets images instead of vectors", () => {
    const layers = kerasLayers(1);
    const model = layers.sequential();
    model.add(layers.conv2d({ filters: 4, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
    model.add(layers.dense({ units: 10, activation: "softmax" }));
    expect(() => logits(model, x, false)).toThrow(/gets inputs of shape \[null,26,26,4\].*layers\.flatten\(\)/);
  });
});

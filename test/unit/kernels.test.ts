import type { Scalar, Sequential, Tensor, Tensor2D, Tensor4D, Variable } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { logits } from "../../src/model/forward";
import { biasAdd, conv2d, dense, dropout, keepMask, maxPool, relu, ResourceVariable, softmaxCrossEntropySum, statelessUniform } from "../../src/model/kernels";
import { kerasLayers } from "../../src/model/layers";
import { buildConvNet } from "../../src/model/models";

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe("kernels", () => {
  it("relu's gradient (TensorFlow's ReluGrad) equals tfjs's dy·step(x)", () => {
    const x = tf.randomUniform([64, 50], -1, 1, "float32", 1);
    const dy = tf.randomUniform([64, 50], -1, 1, "float32", 2);
    const ours = tf.grad((t: Tensor) => relu(t))(x, dy);
    const theirs = tf.grad((t: Tensor) => tf.relu(t))(x, dy);
    expect(maxAbsDiff(relu(x), tf.relu(x))).toBe(0);
    expect(maxAbsDiff(ours, theirs)).toBe(0);
  });

  it("max pooling (oneDNN's, with workspace) equals tf.maxPool in value and gradient, ties included", () => {
    // a relu'd input has many all-zero windows: ties must send the gradient where MaxPoolGrad sends it
    const x = tf.relu(tf.randomUniform([4, 8, 8, 3], -1, 1, "float32", 3)) as Tensor4D;
    const dy = tf.randomUniform([4, 4, 4, 3], -1, 1, "float32", 4);
    expect(maxAbsDiff(maxPool(x, 2), tf.maxPool(x, 2, 2, "valid"))).toBe(0);
    const ours = tf.grad((t: Tensor) => maxPool(t, 2))(x, dy);
    const theirs = tf.grad((t: Tensor) => tf.maxPool(t as Tensor4D, 2, 2, "valid"))(x, dy);
    expect(maxAbsDiff(ours, theirs)).toBe(0);
  });

  it.each(["relu", "linear"] as const)("a %s Dense layer (BatchMatMulV2, BiasAdd, BiasAddGrad) equals tfjs's matMul + add in value and gradients", (activation) => {
    const x = tf.randomNormal([16, 40], 0, 1, "float32", 1);
    const w = tf.randomNormal([40, 12], 0, 0.3, "float32", 2);
    const b = tf.randomNormal([12], 0, 0.3, "float32", 3);
    const dy = tf.randomNormal([16, 12], 0, 1, "float32", 4);
    const reference = (xs: Tensor, ws: Tensor, bs: Tensor) => {
      const z = tf.add(tf.matMul(xs as Tensor2D, ws as Tensor2D), bs);
      return activation === "relu" ? tf.relu(z) : z;
    };
    const loss = (f: typeof reference) => (xs: Tensor, ws: Tensor, bs: Tensor) => tf.sum(tf.mul(f(xs, ws, bs), dy));
    expect(maxAbsDiff(dense(x, w, b, activation), reference(x, w, b))).toBeLessThan(1e-5);
    const ours = tf.grads(loss((xs, ws, bs) => dense(xs, ws, bs, activation)))([x, w, b]);
    const theirs = tf.grads(loss(reference))([x, w, b]);
    ours.forEach((g, i) => {
      expect(g.shape).toEqual(theirs[i]!.shape);
      expect(maxAbsDiff(g, theirs[i]!)).toBeLessThan(1e-4);
    });
  });

  it.each([
    ["with a bias (oneDNN's fused bias), input gradient wanted", true, true],
    ["with a bias, input gradient not wanted (the images)", true, false],
    ["without a bias", false, true],
  ] as const)("a convolution %s equals tfjs's conv2d + add in value and gradients", (_, withBias, inputNeedsGradient) => {
    const x = tf.randomNormal([4, 10, 9, 3], 0, 1, "float32", 8);
    const w = tf.randomNormal([3, 3, 3, 5], 0, 0.3, "float32", 9);
    const b = tf.randomNormal([5], 0, 0.3, "float32", 10);
    const dy = tf.randomNormal([4, 8, 7, 5], 0, 1, "float32", 11);
    const reference = (xs: Tensor, ws: Tensor, bs: Tensor) => {
      const y = tf.conv2d(xs as Tensor4D, ws as Tensor4D, 1, "valid");
      return withBias ? tf.add(y, bs) : y;
    };
    const ours = (xs: Tensor, ws: Tensor, bs: Tensor) => conv2d(xs, ws, withBias ? bs : null, inputNeedsGradient);
    expect(maxAbsDiff(ours(x, w, b), reference(x, w, b))).toBeLessThan(1e-5);
    // differentiate with respect to w, and x and b where ours computes their gradients
    const wrt = [w, ...(inputNeedsGradient ? [x] : []), ...(withBias ? [b] : [])];
    const loss = (f: typeof reference) => (...args: Tensor[]) => {
      const [ws, xs = x, bs = b] = inputNeedsGradient ? args : [args[0]!, x, args[1]];
      return tf.sum(tf.mul(f(xs, ws!, bs!), dy));
    };
    const oursGrads = tf.grads(loss(ours))(wrt);
    const theirGrads = tf.grads(loss(reference))(wrt);
    expect(oursGrads).toHaveLength(wrt.length);
    oursGrads.forEach((g, i) => {
      expect(g.shape).toEqual(wrt[i]!.shape);
      expect(maxAbsDiff(g, theirGrads[i]!)).toBeLessThan(1e-4);
    });
  });

  it("a bias over the last axis (BiasAdd, BiasAddGrad) equals tfjs's broadcasting add in value and gradients", () => {
    const x = tf.randomNormal([4, 6, 6, 8], 0, 1, "float32", 5);
    const b = tf.randomNormal([8], 0, 1, "float32", 6);
    const dy = tf.randomNormal([4, 6, 6, 8], 0, 1, "float32", 7);
    expect(maxAbsDiff(biasAdd(x, b), tf.add(x, b))).toBe(0);
    const loss = (f: (xs: Tensor, bs: Tensor) => Tensor) => (xs: Tensor, bs: Tensor) => tf.sum(tf.mul(f(xs, bs), dy));
    const [dxOurs, dbOurs] = tf.grads(loss(biasAdd))([x, b]);
    const [dxTheirs, dbTheirs] = tf.grads(loss((xs, bs) => tf.add(xs, bs)))([x, b]);
    expect(maxAbsDiff(dxOurs!, dxTheirs!)).toBe(0);
    expect(dbOurs!.shape).toEqual([8]);
    expect(maxAbsDiff(dbOurs!, dbTheirs!)).toBeLessThan(1e-4);
  });

  it("the summed softmax cross-entropy (SoftmaxCrossEntropyWithLogits) equals tfjs's in value and gradient, extreme logits included", () => {
    const labels = tf.oneHot(tf.tensor1d([3, 0, 9, 9, 1, 5, 7, 2], "int32"), 10).toFloat();
    // the last two rows saturate: their labels' probabilities underflow to 0 in float32
    const logitsBatch = tf.concat([tf.randomNormal([6, 10], 0, 3, "float32", 5), tf.tensor2d([Array(10).fill(0).map((_, i) => (i === 4 ? 90 : -90)), Array(10).fill(0).map((_, i) => i * 20)])]);
    const theirs = (z: Tensor) => tf.losses.softmaxCrossEntropy(labels, z, undefined, undefined, tf.Reduction.SUM);
    const ours = (z: Tensor) => softmaxCrossEntropySum(labels, z);
    const [a, b] = [ours(logitsBatch), theirs(logitsBatch)].map((t) => t.dataSync()[0]!) as [number, number];
    expect(Number.isFinite(a)).toBe(true);
    // tf.oneHot's int32 labels give the same loss
    expect(softmaxCrossEntropySum(tf.cast(labels, "int32"), logitsBatch).dataSync()[0]).toBe(a);
    expect(Math.abs(a - b) / b).toBeLessThan(1e-6);
    expect(a).toBeGreaterThan(320); // those two rows alone: 90 − (−90) = 180 and ≈ 180 − 40 = 140
    const dy = tf.scalar(0.5);
    expect(maxAbsDiff(tf.grad(ours)(logitsBatch, dy), tf.grad(theirs)(logitsBatch, dy))).toBeLessThan(1e-6);
  });

  it("stateless uniform numbers depend only on the seed, and lie in [0, 1)", () => {
    const a = statelessUniform([1000], [7, 1]);
    const b = statelessUniform([1000], [7, 1]);
    const c = statelessUniform([1000], [7, 2]);
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(0.5);
    expect(tf.min(a).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(a).dataSync()[0]).toBeLessThan(1);
    expect(tf.mean(a).dataSync()[0]).toBeCloseTo(0.5, 1);
  });

  it.each([
    [0.25, "one random byte per unit"],
    [0.5, "one random byte per unit"],
    [0.3, "a uniform float per unit"],
    [0, "every unit"],
  ])("keep masks at rate %s (%s) keep 1−rate of the units within 4σ, repeat per seed and differ across seeds", (rate) => {
    const shape = [1001, 3, 7]; // 21,021 units: not a multiple of 4
    const units = 21_021;
    const mask = keepMask(shape, rate, [3, 0]);
    expect(mask.dtype).toBe("bool");
    expect(mask.shape).toEqual(shape);
    const kept = tf.tidy(() => tf.sum(tf.cast(mask, "int32")).dataSync()[0]!);
    const sigma = Math.sqrt(units * rate * (1 - rate));
    expect(Math.abs(kept - units * (1 - rate))).toBeLessThanOrEqual(4 * sigma);
    const same = keepMask(shape, rate, [3, 0]);
    const other = keepMask(shape, rate, [3, 1]);
    const differing = (a: Tensor, b: Tensor) => tf.tidy(() => tf.sum(tf.cast(tf.notEqual(a, b), "int32")).dataSync()[0]!);
    expect(differing(mask, same)).toBe(0);
    // two independent masks disagree on 2·rate·(1−rate) of the units
    expect(Math.abs(differing(mask, other) - 2 * units * rate * (1 - rate))).toBeLessThanOrEqual(4 * Math.sqrt(2 * units * rate * (1 - rate)) + 1e-9);
    tf.dispose([mask, same, other]);
  });

  it("keep masks from random bytes have no pattern across neighbouring units", () => {
    // Four units share one 32-bit word: their keep decisions must still be independent.
    const mask = keepMask([400_000], 0.5, [11, 4]);
    const values = mask.dataSync();
    const counts = [0, 0, 0, 0];
    let pairsBothKept = 0;
    for (let i = 0; i < values.length; i++) {
      counts[i % 4]! += values[i]!;
      if (i % 4 !== 3 && values[i] && values[i + 1]) pairsBothKept++;
    }
    for (const count of counts) expect(Math.abs(count - 50_000)).toBeLessThan(4 * Math.sqrt(100_000 * 0.25));
    expect(Math.abs(pairsBothKept - 300_000 * 0.25)).toBeLessThan(4 * Math.sqrt(300_000 * 0.25 * 0.75));
    mask.dispose();
  });

  it("dropout keeps about 1−rate of the units, scaled by 1/(1−rate)", () => {
    const x = tf.ones([200, 100]);
    const y = dropout(x, 0.25, [1, 0]);
    const values = Array.from(y.dataSync());
    const kept = values.filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.75)]));
    expect(kept.length / values.length).toBeCloseTo(0.75, 2);
    expect(maxAbsDiff(dropout(x, 0.25, [1, 0]), y)).toBe(0);
    expect(maxAbsDiff(dropout(x, 0.25, [1, 1]), y)).toBeGreaterThan(0);
  });
});

describe("ResourceVariable", () => {
  it("holds, updates and frees a value in TensorFlow", () => {
    const variable = ResourceVariable.create(tf.tensor1d([1, 2, 3]))!;
    expect(Array.from(variable.read().dataSync())).toEqual([1, 2, 3]);
    variable.assign(tf.tensor1d([4, 5, 6]));
    expect(Array.from(variable.read().dataSync())).toEqual([4, 5, 6]);
    const handle = variable.handle.clone(); // outlives dispose(), to look the variable up afterwards
    const tensors = tf.memory().numTensors;
    variable.dispose();
    expect(tf.memory().numTensors).toBe(tensors - 1);
    const backend = tf.backend() as unknown as {
      binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
      executeSingleOutput: (name: string, attrs: unknown[], inputs: Tensor[]) => Tensor;
    };
    const dtype = { name: "dtype", type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT };
    const read = () => backend.executeSingleOutput("ReadVariableOp", [dtype], [handle]);
    expect(read).toThrow(/not found|does not exist|uninitialized/i);
    handle.dispose();
  });
});

describe("the training forward pass", () => {
  /** Loss from tfjs-layers' own forward pass (probabilities), for comparison. */
  const referenceLoss = (model: Sequential, x: Tensor, y: Tensor) => () =>
    tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(model.apply(x, { training: true }) as Tensor)), -1))) as Scalar;
  const fastLoss = (model: Sequential, x: Tensor, y: Tensor) => () =>
    tf.losses.softmaxCrossEntropy(y, logits(model, x, true)) as Scalar;

  /** A student's edit of model 2: 48 filters, a third Conv2D, the first dropout moved after it. */
  const edited = () => {
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
  };
  /** Layers the fast path does not know, run by tfjs-layers inside it. */
  const unknownLayers = () => {
    const layers = kerasLayers(9);
    const model = layers.sequential();
    model.add(layers.conv2d({ filters: 8, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
    model.add(layers.batchNormalization());
    model.add(layers.averagePooling2d({ poolSize: [2, 2] }));
    model.add(layers.conv2d({ filters: 16, kernelSize: [3, 3], activation: "tanh" }));
    model.add(layers.flatten());
    model.add(layers.dense({ units: 10, activation: "softmax" }));
    return model;
  };

  it.each([
    ["model 1", () => buildConvNet({ seed: 9 })],
    ["model 2", () => buildConvNet({ seed: 9, dropoutConv: 0.25, dropoutDense: 0.5 })],
    ["an edited model (48 filters, another Conv2D, dropout moved)", edited],
    ["BatchNormalization, AveragePooling2D and a tanh Conv2D", unknownLayers],
  ])("%s: same loss and gradients as tfjs-layers' own layers", (_, build) => {
    const x = tf.randomUniform([16, 28, 28, 1], 0, 1, "float32", 5);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5], "int32"), 10);
    // twins: same seed, so the same weights and the same dropout masks
    const fast = build();
    const reference = build();
    const ours = tf.variableGrads(fastLoss(fast, x, y), fast.trainableWeights.map((w) => w.read() as Variable));
    const theirs = tf.variableGrads(referenceLoss(reference, x, y), reference.trainableWeights.map((w) => w.read() as Variable));
    expect(ours.value.dataSync()[0]).toBeCloseTo(theirs.value.dataSync()[0]!, 5);
    const oursGrads = Object.values(ours.grads);
    const theirGrads = Object.values(theirs.grads);
    expect(oursGrads.map((g) => g.shape)).toEqual(theirGrads.map((g) => g.shape));
    oursGrads.forEach((g, i) => {
      const scale = tf.max(tf.abs(theirGrads[i]!)).dataSync()[0]!;
      expect(maxAbsDiff(g, theirGrads[i]!)).toBeLessThan(1e-4 * Math.max(scale, 1e-3));
    });
  });
});

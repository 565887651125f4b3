import type { Tensor, Tensor2D, Tensor4D } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { nativeOps, squarePool } from "../../src/engine/kernels";

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
const ops = nativeOps()!;

describe("TensorFlow's ops against tfjs's own (values and gradients)", () => {
  it("runs on the TensorFlow backend", () => {
    expect(tf.getBackend()).toBe("tensorflow");
    expect(ops).not.toBeNull();
  });

  it("ReluGrad equals tfjs's relu gradient", () => {
    const x = tf.randomUniform([64, 50], -1, 1, "float32", 1);
    const dy = tf.randomUniform([64, 50], -1, 1, "float32", 2);
    expect(maxAbsDiff(ops.relu(x), tf.relu(x))).toBe(0);
    expect(maxAbsDiff(ops.reluGrad(dy, ops.relu(x)), tf.grad((t: Tensor) => tf.relu(t))(x, dy))).toBe(0);
  });

  it("max pooling and its gradient, with the kernel chosen for this machine, equal tf.maxPool's, ties included", () => {
    // a relu'd input has many all-zero windows: ties must send the gradient where MaxPoolGrad sends it
    const x = tf.relu(tf.randomUniform([4, 8, 8, 3], -1, 1, "float32", 3)) as Tensor4D;
    const dy = tf.randomUniform([4, 4, 4, 3], -1, 1, "float32", 4);
    const pooled = ops.maxPool(x, squarePool(2));
    expect(maxAbsDiff(pooled.y, tf.maxPool(x, 2, 2, "valid"))).toBe(0);
    const theirs = tf.grad((t: Tensor) => tf.maxPool(t as Tensor4D, 2, 2, "valid"))(x, dy);
    expect(maxAbsDiff(ops.maxPoolGrad(x, pooled, dy, squarePool(2)), theirs)).toBe(0);
  });

  it.each([true, false])("a convolution (with bias: %s) and its three gradients, with the kernels chosen for this machine, equal tfjs's conv2d + add", (withBias) => {
    const x = tf.randomNormal([4, 10, 9, 3], 0, 1, "float32", 8);
    const w = tf.randomNormal([3, 3, 3, 5], 0, 0.3, "float32", 9);
    const b = tf.randomNormal([5], 0, 0.3, "float32", 10);
    const dy = tf.randomNormal([4, 8, 7, 5], 0, 1, "float32", 11);
    const conv = (xs: Tensor, ws: Tensor) => tf.conv2d(xs as Tensor4D, ws as Tensor4D, 1, "valid");
    expect(maxAbsDiff(ops.conv(x, w, withBias ? b : null), withBias ? tf.add(conv(x, w), b) : conv(x, w))).toBeLessThan(1e-5);
    const [dx, dw, db] = tf.grads((xs: Tensor, ws: Tensor, bs: Tensor) => tf.sum(tf.mul(tf.add(conv(xs, ws), bs), dy)))([x, w, b]);
    expect(maxAbsDiff(ops.convInputGrad(x.shape, w, dy), dx!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ops.convFilterGrad(x, w.shape, dy), dw!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ops.biasGrad(dy), db!)).toBeLessThan(1e-4);
  });

  it("matrix products with either side transposed equal tfjs's matMul", () => {
    const a = tf.randomNormal([16, 40], 0, 1, "float32", 1) as Tensor2D;
    const b = tf.randomNormal([40, 12], 0, 1, "float32", 2) as Tensor2D;
    const c = tf.randomNormal([16, 12], 0, 1, "float32", 3) as Tensor2D;
    expect(maxAbsDiff(ops.matMul(a, b, false, false), tf.matMul(a, b))).toBeLessThan(1e-4);
    expect(maxAbsDiff(ops.matMul(a, c, true, false), tf.matMul(a, c, true, false))).toBeLessThan(1e-4);
    expect(maxAbsDiff(ops.matMul(c, b, false, true), tf.matMul(c, b, false, true))).toBeLessThan(1e-4);
  });

  it("a bias over the last axis (BiasAdd, BiasAddGrad) equals tfjs's broadcasting add and sum", () => {
    const x = tf.randomNormal([4, 6, 6, 8], 0, 1, "float32", 5);
    const b = tf.randomNormal([8], 0, 1, "float32", 6);
    expect(maxAbsDiff(ops.biasAdd(x, b), tf.add(x, b))).toBe(0);
    expect(ops.biasGrad(x).shape).toEqual([8]);
    expect(maxAbsDiff(ops.biasGrad(x), tf.sum(x, [0, 1, 2]))).toBeLessThan(1e-4);
  });

  it("the softmax cross-entropy (SoftmaxCrossEntropyWithLogits) equals tfjs's per example and in gradient, extreme logits included", () => {
    const labels = tf.oneHot(tf.tensor1d([3, 0, 9, 9, 1, 5, 7, 2], "int32"), 10).toFloat();
    // the last two rows saturate: their labels' probabilities underflow to 0 in float32
    const logitsBatch = tf.concat([tf.randomNormal([6, 10], 0, 3, "float32", 5), tf.tensor2d([Array(10).fill(0).map((_, i) => (i === 4 ? 90 : -90)), Array(10).fill(0).map((_, i) => i * 20)])]);
    const theirs = (z: Tensor) => tf.losses.softmaxCrossEntropy(labels, z, undefined, undefined, tf.Reduction.NONE);
    const [losses, gradient] = ops.softmaxCrossEntropy(logitsBatch, labels);
    expect(losses.shape).toEqual([8]);
    expect(maxAbsDiff(losses, theirs(logitsBatch))).toBeLessThan(1e-4);
    expect(losses.dataSync()[6]).toBeCloseTo(180, 3); // 90 − (−90)
    expect(losses.dataSync()[7]).toBeCloseTo(140, 3); // ≈ 180 − 40
    expect(maxAbsDiff(gradient, tf.grad((z: Tensor) => tf.sum(theirs(z)))(logitsBatch))).toBeLessThan(1e-6);
    // tf.oneHot's int32 labels give the same losses
    expect(maxAbsDiff(ops.softmaxCrossEntropy(logitsBatch, tf.cast(labels, "int32"))[0], losses)).toBe(0);
  });
});

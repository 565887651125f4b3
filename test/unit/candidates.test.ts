/** Every candidate kernel of every tuned op against tfjs's own op: values and gradients, on this build and as a build without oneDNN. */
import type { Tensor, Tensor2D, Tensor4D } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { native } from "../../src/engine/binding";
import { candidates, convFits, KERNEL_CATALOGUE, squarePool, UNIT_CONV, type ConvGeometry, type PoolGeometry } from "../../src/engine/kernels";

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
const backend = native()!;
const builds = { "this build": candidates(backend), "a build without oneDNN": candidates(backend, true) };

describe.each(Object.entries(builds))("on %s", (build, all) => {
  it("offers the catalogue's candidates, baseline first, oneDNN's only where oneDNN is", () => {
    const names = Object.fromEntries(Object.entries(all).map(([op, list]) => [op, (list as { name: string }[]).map((c) => c.name)]));
    // TensorFlow 2.21's pip build has oneDNN: every candidate is there
    expect(names).toEqual(build === "this build" ? KERNEL_CATALOGUE : {
      conv2d: ["eigen", "winograd2", "winograd2-fused", "winograd4", "winograd4-fused"],
      conv2dRelu: ["eigen", "eigen-fused", "winograd2", "winograd2-fused", "winograd4", "winograd4-fused"],
      conv2dFilterGrad: ["eigen", "transposed", "winograd2", "winograd2-fused", "winograd4", "winograd4-fused"], conv2dInputGrad: ["eigen", "padded", "winograd2", "winograd2-fused", "winograd4", "winograd4-fused"], maxPool: ["eigen"],
      avgPool: ["eigen", "broadcast"], batchNorm: ["eigen"], matMul: ["adjoint", "transposed"],
    });
    if (build !== "this build") expect(Object.values(all).flat().filter((c) => c.oneDNN)).toEqual([]);
  });

  // Odd sizes on purpose: a batch of 1, one channel, non-square images and kernels, an even kernel; for Winograd's
  // tiles, outputs that end inside a tile and channel counts that end inside a vector register.
  const same: ConvGeometry = { ...UNIT_CONV, padding: "same" };
  it.each([
    { x: [2, 13, 11, 19], w: [3, 3, 19, 13], g: UNIT_CONV },
    { x: [1, 3, 3, 70], w: [3, 3, 70, 9], g: UNIT_CONV },
    { x: [3, 7, 10, 5], w: [3, 3, 5, 66], g: same },
    { x: [4, 10, 9, 3], w: [3, 3, 3, 5], g: UNIT_CONV },
    { x: [1, 6, 7, 1], w: [2, 2, 1, 4], g: UNIT_CONV },
    { x: [3, 8, 7, 16], w: [5, 3, 16, 8], g: UNIT_CONV },
    { x: [4, 10, 9, 3], w: [3, 3, 3, 5], g: same },
    { x: [2, 7, 8, 2], w: [2, 4, 2, 3], g: same }, // even kernels: TensorFlow pads the odd one after
    { x: [3, 11, 10, 3], w: [3, 3, 3, 4], g: { ...UNIT_CONV, strides: [2, 2] as [number, number] } },
    { x: [3, 11, 10, 3], w: [3, 2, 3, 4], g: { strides: [2, 3] as [number, number], dilations: [1, 1] as [number, number], padding: "same" as const } },
  ])("conv2d and both its gradients equal tfjs's for x $x, w $w, $g", ({ x: xs, w: ws, g }) => {
    const x = tf.randomNormal(xs, 0, 1, "float32", 1).as4D(xs[0]!, xs[1]!, xs[2]!, xs[3]!);
    const w = tf.randomNormal(ws, 0, 0.3, "float32", 2).as4D(ws[0]!, ws[1]!, ws[2]!, ws[3]!);
    const b = tf.randomNormal([ws[3]!], 0, 0.3, "float32", 3);
    const conv = (a: Tensor, c: Tensor) => tf.conv2d(a as Tensor4D, c as Tensor4D, g.strides, g.padding);
    const y = conv(x, w);
    const dy = tf.randomNormal(y.shape, 0, 1, "float32", 4);
    const [dx, dw] = tf.grads((a: Tensor, c: Tensor) => tf.sum(tf.mul(conv(a, c), dy)))([x, w]);
    const fits = (k: { name: string }) => convFits(k.name, ws, g);
    for (const c of all.conv2d.filter(fits)) {
      expect(maxAbsDiff(c.impl(x, w, null, g), y), c.name).toBeLessThan(1e-4);
      expect(maxAbsDiff(c.impl(x, w, b, g), tf.add(y, b)), `${c.name} with bias`).toBeLessThan(1e-4);
    }
    for (const c of all.conv2dRelu.filter(fits)) expect(maxAbsDiff(c.impl(x, w, b, g), tf.relu(tf.add(y, b))), `${c.name} with relu`).toBeLessThan(1e-4);
    // the reformulations are offered at stride 1 only, Winograd's for 3×3 kernels at stride 1 (kernels.ts)
    for (const c of all.conv2dFilterGrad.filter(fits)) {
      const got = c.impl(x, ws, dy, g);
      expect(got.shape, c.name).toEqual(ws);
      expect(maxAbsDiff(got, dw!), c.name).toBeLessThan(1e-3);
    }
    for (const c of all.conv2dInputGrad.filter(fits)) {
      const got = c.impl(xs, w, dy, g);
      expect(got.shape, c.name).toEqual(xs);
      expect(maxAbsDiff(got, dx!), c.name).toBeLessThan(1e-4);
    }
  });

  it("a dilated convolution and its gradients equal the convolution by its kernel spread out with zeros", () => {
    // tfjs cannot differentiate a dilated conv2d; a 2×2 kernel at dilation 2 is the 3×3 kernel with zeros between
    const g: ConvGeometry = { strides: [1, 1], dilations: [2, 2], padding: "same" };
    const x = tf.randomNormal([2, 9, 8, 3], 0, 1, "float32", 11) as Tensor4D;
    const w = tf.randomNormal([2, 2, 3, 4], 0, 0.3, "float32", 12) as Tensor4D;
    const kernel = w.arraySync();
    const zero = () => Array.from({ length: 3 }, () => Array(4).fill(0) as number[]);
    const stuffed = tf.tensor4d([0, 1, 2].map((i) => [0, 1, 2].map((j) => (i % 2 === 0 && j % 2 === 0 ? kernel[i / 2]![j / 2]! : zero()))));
    const y = tf.conv2d(x, stuffed, 1, "same");
    const dy = tf.randomNormal(y.shape, 0, 1, "float32", 13);
    const [dx, dStuffed] = tf.grads((a: Tensor, k: Tensor) => tf.sum(tf.mul(tf.conv2d(a as Tensor4D, k as Tensor4D, 1, "same"), dy)))([x, stuffed]);
    const dw = tf.stridedSlice(dStuffed!, [0, 0, 0, 0], [3, 3, 3, 4], [2, 2, 1, 1]);
    const fits = (k: { name: string }) => convFits(k.name, w.shape, g);
    for (const c of all.conv2d.filter(fits)) expect(maxAbsDiff(c.impl(x, w, null, g), y), c.name).toBeLessThan(1e-4);
    for (const c of all.conv2dFilterGrad.filter(fits)) expect(maxAbsDiff(c.impl(x, w.shape, dy, g), dw), c.name).toBeLessThan(1e-3);
    for (const c of all.conv2dInputGrad.filter(fits)) expect(maxAbsDiff(c.impl(x.shape, w, dy, g), dx!), c.name).toBeLessThan(1e-4);
  });

  const overlapping: PoolGeometry = { size: [3, 3], strides: [2, 2], padding: "same" };
  it.each([
    { shape: [4, 8, 8, 3], window: squarePool(2) },
    { shape: [2, 9, 7, 5], window: squarePool(3) }, // the last row and column fall outside every window
    { shape: [2, 9, 7, 5], window: overlapping },
    { shape: [3, 6, 5, 2], window: { size: [2, 3], strides: [1, 1], padding: "valid" } as PoolGeometry },
  ])("max and average pooling and their gradients equal tfjs's for $shape, $window, ties included", ({ shape, window }) => {
    // a relu'd input has all-zero windows: ties must send the gradient where tfjs sends it
    const x = tf.relu(tf.randomUniform(shape, -1, 1, "float32", 5)).as4D(shape[0]!, shape[1]!, shape[2]!, shape[3]!);
    const maxPool = (t: Tensor) => tf.maxPool(t as Tensor4D, window.size, window.strides, window.padding);
    const avgPool = (t: Tensor) => tf.avgPool(t as Tensor4D, window.size, window.strides, window.padding);
    const y = maxPool(x);
    const dy = tf.randomUniform(y.shape, -1, 1, "float32", 6);
    const dx = tf.grad(maxPool)(x, dy);
    for (const c of all.maxPool) {
      const pooled = c.impl.forward(x, window);
      expect(maxAbsDiff(pooled.y, y), c.name).toBe(0);
      // overlapping windows add up in another order: float32 rounding, where a misrouted tie would be off by a whole dy
      expect(maxAbsDiff(c.impl.backward(x, pooled, dy, window), dx), c.name).toBeLessThan(1e-6);
    }
    const average = avgPool(x);
    const dAverage = tf.grad(avgPool)(x, dy);
    // the broadcast is offered only for windows that tile the image exactly (kernels.ts)
    const tiles = window.padding === "valid" && window.size.every((n, i) => window.strides[i] === n && shape[i + 1]! % n === 0);
    for (const c of all.avgPool.filter((k) => tiles || k.name !== "broadcast")) {
      expect(maxAbsDiff(c.impl.forward(x, window), average), c.name).toBeLessThan(1e-6);
      expect(maxAbsDiff(c.impl.backward(shape, dy, window), dAverage), c.name).toBeLessThan(1e-6);
    }
  });

  it("batch normalization in training and inference, and its gradients, equal tfjs's moments and batchNorm", () => {
    const x = tf.randomNormal([6, 5, 4, 3], 2, 3, "float32", 7) as Tensor4D;
    const gamma = tf.tensor1d([1.5, 0.5, -1]);
    const beta = tf.tensor1d([0.1, -0.2, 0.3]);
    const dy = tf.randomNormal(x.shape, 0, 1, "float32", 8);
    const normalize = (a: Tensor, s: Tensor, o: Tensor) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.batchNorm(a, mean, variance, o, s, 1e-3);
    };
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const [dx, dGamma, dBeta] = tf.grads((a: Tensor, s: Tensor, o: Tensor) => tf.sum(tf.mul(normalize(a, s, o), dy)))([x, gamma, beta]);
    const movingMean = tf.tensor1d([0.5, 1, 2]);
    const movingVariance = tf.tensor1d([4, 2, 9]);
    for (const c of all.batchNorm) {
      const out = c.impl.training(x, gamma, beta, 1e-3);
      expect(maxAbsDiff(out.y, normalize(x, gamma, beta)), c.name).toBeLessThan(1e-4);
      expect(maxAbsDiff(out.mean, mean), c.name).toBeLessThan(1e-5);
      expect(maxAbsDiff(out.variance, variance), c.name).toBeLessThan(1e-4);
      const [gx, gs, go] = c.impl.backward(dy, x, gamma, out.reserve, 1e-3);
      expect(maxAbsDiff(gx!, dx!), c.name).toBeLessThan(1e-4);
      expect(maxAbsDiff(gs!, dGamma!), c.name).toBeLessThan(1e-3);
      expect(maxAbsDiff(go!, dBeta!), c.name).toBeLessThan(1e-3);
      const inference = c.impl.inference(x, gamma, beta, movingMean, movingVariance, 1e-3);
      expect(maxAbsDiff(inference, tf.batchNorm(x, movingMean, movingVariance, beta, gamma, 1e-3)), c.name).toBeLessThan(1e-4);
    }
  });

  it.each([[false, false], [true, false], [false, true], [true, true]])("matrix products (a transposed: %s, b transposed: %s) equal tfjs's matMul", (ta, tb) => {
    const a = tf.randomNormal(ta ? [40, 16] : [16, 40], 0, 1, "float32", 7) as Tensor2D;
    const b = tf.randomNormal(tb ? [12, 40] : [40, 12], 0, 1, "float32", 8) as Tensor2D;
    const expected = tf.matMul(a, b, ta, tb);
    for (const c of all.matMul) expect(maxAbsDiff(c.impl(a, b, ta, tb), expected), c.name).toBeLessThan(1e-4);
  });
});

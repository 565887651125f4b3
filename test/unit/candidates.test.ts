/** Every candidate kernel of every tuned op against tfjs's own op: values and gradients, on this build and as a build without oneDNN. */
import type { Tensor, Tensor2D, Tensor4D } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { native } from "../../src/engine/binding";
import { candidates, KERNEL_CATALOGUE } from "../../src/engine/kernels";

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
const backend = native()!;
const builds = { "this build": candidates(backend), "a build without oneDNN": candidates(backend, true) };

describe.each(Object.entries(builds))("on %s", (build, all) => {
  it("offers the catalogue's candidates, baseline first, oneDNN's only where oneDNN is", () => {
    const names = Object.fromEntries(Object.entries(all).map(([op, list]) => [op, (list as { name: string }[]).map((c) => c.name)]));
    // TensorFlow 2.21's pip build has oneDNN: every candidate is there
    expect(names).toEqual(build === "this build" ? KERNEL_CATALOGUE : {
      conv2d: ["eigen"], conv2dFilterGrad: ["eigen", "transposed"], conv2dInputGrad: ["eigen", "padded"], maxPool: ["eigen"], matMul: ["adjoint", "transposed"],
    });
    if (build !== "this build") expect(Object.values(all).flat().filter((c) => c.oneDNN)).toEqual([]);
  });

  // Odd sizes on purpose: a batch of 1, one channel, non-square images and kernels, an even kernel.
  it.each([
    { x: [4, 10, 9, 3], w: [3, 3, 3, 5] },
    { x: [1, 6, 7, 1], w: [2, 2, 1, 4] },
    { x: [3, 8, 7, 16], w: [5, 3, 16, 8] },
  ])("conv2d and both its gradients equal tfjs's for x $x, w $w", ({ x: xs, w: ws }) => {
    const x = tf.randomNormal(xs, 0, 1, "float32", 1).as4D(xs[0]!, xs[1]!, xs[2]!, xs[3]!);
    const w = tf.randomNormal(ws, 0, 0.3, "float32", 2).as4D(ws[0]!, ws[1]!, ws[2]!, ws[3]!);
    const b = tf.randomNormal([ws[3]!], 0, 0.3, "float32", 3);
    const y = tf.conv2d(x, w, 1, "valid");
    const dy = tf.randomNormal(y.shape, 0, 1, "float32", 4);
    const [dx, dw] = tf.grads((a: Tensor, c: Tensor) => tf.sum(tf.mul(tf.conv2d(a as Tensor4D, c as Tensor4D, 1, "valid"), dy)))([x, w]);
    for (const c of all.conv2d) {
      expect(maxAbsDiff(c.impl(x, w, null), y), c.name).toBeLessThan(1e-4);
      expect(maxAbsDiff(c.impl(x, w, b), tf.add(y, b)), `${c.name} with bias`).toBeLessThan(1e-4);
    }
    for (const c of all.conv2dFilterGrad) {
      const got = c.impl(x, ws, dy);
      expect(got.shape, c.name).toEqual(ws);
      expect(maxAbsDiff(got, dw!), c.name).toBeLessThan(1e-3);
    }
    for (const c of all.conv2dInputGrad) {
      const got = c.impl(xs, w, dy);
      expect(got.shape, c.name).toEqual(xs);
      expect(maxAbsDiff(got, dx!), c.name).toBeLessThan(1e-4);
    }
  });

  it.each([
    { shape: [4, 8, 8, 3], size: 2 },
    { shape: [2, 9, 7, 5], size: 3 }, // the last row and column fall outside every window
  ])("max pooling and its gradient equal tf.maxPool's for $shape, window $size, ties included", ({ shape, size }) => {
    // a relu'd input has all-zero windows: ties must send the gradient where tfjs sends it
    const x = tf.relu(tf.randomUniform(shape, -1, 1, "float32", 5)).as4D(shape[0]!, shape[1]!, shape[2]!, shape[3]!);
    const y = tf.maxPool(x, size, size, "valid");
    const dy = tf.randomUniform(y.shape, -1, 1, "float32", 6);
    const dx = tf.grad((t: Tensor) => tf.maxPool(t as Tensor4D, size, size, "valid"))(x, dy);
    for (const c of all.maxPool) {
      const pooled = c.impl.forward(x, size);
      expect(maxAbsDiff(pooled.y, y), c.name).toBe(0);
      expect(maxAbsDiff(c.impl.backward(x, pooled, dy, size), dx), c.name).toBe(0);
    }
  });

  it.each([[false, false], [true, false], [false, true], [true, true]])("matrix products (a transposed: %s, b transposed: %s) equal tfjs's matMul", (ta, tb) => {
    const a = tf.randomNormal(ta ? [40, 16] : [16, 40], 0, 1, "float32", 7) as Tensor2D;
    const b = tf.randomNormal(tb ? [12, 40] : [40, 12], 0, 1, "float32", 8) as Tensor2D;
    const expected = tf.matMul(a, b, ta, tb);
    for (const c of all.matMul) expect(maxAbsDiff(c.impl(a, b, ta, tb), expected), c.name).toBeLessThan(1e-4);
  });
});

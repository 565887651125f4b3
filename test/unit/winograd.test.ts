/**
 * Winograd's candidates (src/engine/ops/winograd.ts on native/winograd.cc) on the seed's own convolution, against
 * TensorFlow's direct kernels: each pass within 1e-5 of the largest value, with "valid" and "same" padding.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { native } from "../../src/engine/binding";
import { candidates, UNIT_CONV, type ConvGeometry } from "../../src/engine/kernels";
import { winogradProblem } from "../../src/engine/ops/winograd";

const all = candidates(native()!);
const byName = <C extends { name: string }>(list: C[], name: string) => list.find((c) => c.name === name)!;
/** max |got − want| / max |want|: the measure, blind to where the largest values happen to be. */
const relativeError = (got: Tensor, want: Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]! / tf.max(tf.abs(want)).dataSync()[0]!);

it("set-up compiled native/winograd.cc and its ops are registered with TensorFlow", () => {
  expect(winogradProblem()).toBeNull();
});

// Model 1's second convolution, with data shaped like training's: relu'd activations, Glorot-sized weights, small dy.
const x = tf.relu(tf.randomNormal([128, 26, 26, 32], 0, 1, "float32", 21));
const w = tf.randomNormal([3, 3, 32, 64], 0, 0.06, "float32", 22);
const b = tf.randomNormal([64], 0, 0.1, "float32", 23);
const same: ConvGeometry = { ...UNIT_CONV, padding: "same" };

describe.each([
  ["valid", UNIT_CONV],
  ["same", same],
])("the seed's second convolution, %s", (_, g) => {
  const eigen = byName(all.conv2d, "eigen").impl(x, w, b, g);
  const dy = tf.randomNormal(eigen.shape, 0, 1e-3, "float32", 24);
  const dx = byName(all.conv2dInputGrad, "eigen").impl(x.shape, w, dy, g);
  const dw = byName(all.conv2dFilterGrad, "eigen").impl(x, w.shape, dy, g);

  it.each(["winograd2", "winograd4", "winograd2-fused", "winograd4-fused"])(
    "%s: forward, forward with relu, the input's and the filter's gradients",
    (name) => {
      const y = byName(all.conv2d, name).impl(x, w, b, g);
      expect(y.shape).toEqual(eigen.shape);
      expect(relativeError(y, eigen)).toBeLessThan(1e-5);
      expect(relativeError(byName(all.conv2dRelu, name).impl(x, w, b, g), tf.relu(eigen))).toBeLessThan(1e-5);
      const got = byName(all.conv2dInputGrad, name).impl(x.shape, w, dy, g);
      expect(got.shape).toEqual(x.shape);
      expect(relativeError(got, dx)).toBeLessThan(1e-5);
      const dwGot = byName(all.conv2dFilterGrad, name).impl(x, w.shape, dy, g);
      expect(dwGot.shape).toEqual(w.shape);
      expect(relativeError(dwGot, dw)).toBeLessThan(1e-5);
    },
  );
});

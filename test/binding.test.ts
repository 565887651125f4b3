import type { Tensor, Tensor4D } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../src/core/backend";
import { onBackend } from "./backends";

/** conv2d forward and its gradients on the current backend. */
function convAndGradients() {
  const random = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, "float32", seed);
  const x = random([2, 9, 9, 3], 1);
  const filter = random([3, 3, 3, 4], 2);
  const upstream = random([2, 7, 7, 4], 3);
  const forward = tf.conv2d(x as Tensor4D, filter as Tensor4D, 1, "valid");
  const [dx, dFilter] = tf.grads((a: Tensor, b: Tensor) => tf.conv2d(a as Tensor4D, b as Tensor4D, 1, "valid"))([x, filter], upstream);
  return [forward, dx!, dFilter!].map((t) => Array.from(t.dataSync(), Number));
}

describe("the native TensorFlow binding", () => {
  it("loads, and tfjs-node runs on the 'tensorflow' backend", () => {
    expect(tf.getBackend()).toBe("tensorflow");
    expect(tf.engine().backendNames()).toContain("cpu");
  });

  it("computes conv2d and its gradients like the pure-JS cpu backend", async () => {
    const native = convAndGradients();
    const reference = await onBackend("cpu", convAndGradients);
    expect(native.map((a) => a.length)).toEqual([2 * 7 * 7 * 4, 2 * 9 * 9 * 3, 3 * 3 * 3 * 4]);
    native.forEach((values, k) => values.forEach((v, i) => expect(Math.abs(v - reference[k]![i]!)).toBeLessThan(1e-4)));
    expect(native[0]!.some((v) => Math.abs(v) > 0.5)).toBe(true); // not trivially zero
  });
});

import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { dropout, dropoutMask, keepMask, statelessUniform } from "../../src/engine/random";

const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe("seeded random numbers for dropout", () => {
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

describe("dropout masks", () => {
  it("are 1/(1−rate) where keepMask keeps and 0 elsewhere", () => {
    const mask = dropoutMask([50, 40], 0.25, [5, 2]);
    const keep = keepMask([50, 40], 0.25, [5, 2]);
    expect(maxAbsDiff(mask, tf.mul(tf.cast(keep, "float32"), 1 / 0.75))).toBe(0);
  });
});

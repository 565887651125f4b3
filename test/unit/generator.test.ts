/**
 * imageDataGenerator: Keras's ImageDataGenerator arguments and meanings, each
 * transform pinned on images whose answer is known, and `model.fit(datagen.flow(x, y))`
 * on the fast path with validation data and the usual progress.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { adadelta } from "../../src/engine/adadelta";
import { trainFunction } from "../../src/engine/step";
import { metricNamed } from "../../src/engine/losses";
import { imageDataGenerator } from "../../src/training/generator";
import { setProgressOutput, terminalOutput } from "../../src/training/progress";
import { kerasLayers } from "../../src/training/sequential";

/** n copies of a 15×15 image, black but for one pixel at (row, col). */
function dots(n: number, row: number, col: number): Tensor {
  const image = new Float32Array(15 * 15);
  image[row * 15 + col] = 1;
  return tf.tile(tf.tensor4d(image, [1, 15, 15, 1]), [n, 1, 1, 1]);
}

/** Per image, the centre of its brightness: [row, col]. */
function centres(x: Tensor): Array<[number, number]> {
  const [n, h, w] = x.shape as number[];
  const v = x.dataSync();
  return Array.from({ length: n! }, (_, i) => {
    let [sum, r, c] = [0, 0, 0];
    for (let y = 0; y < h!; y++) {
      for (let k = 0; k < w!; k++) {
        const p = v[i * h! * w! + y * w! + k]!;
        [sum, r, c] = [sum + p, r + p * y, c + p * k];
      }
    }
    return [r / sum, c / sum];
  });
}
const labels = (n: number) => tf.oneHot(tf.zeros([n], "int32"), 10).toFloat();
const augmentOnce = (args: Parameters<typeof imageDataGenerator>[0], x: Tensor, seed = 1) => imageDataGenerator(args).flow(x, labels(x.shape[0]!), { seed }).augment(x);

describe("imageDataGenerator's transforms", () => {
  it("changes nothing with no arguments", () => {
    const x = tf.randomUniform([4, 15, 15, 2], 0, 1, "float32", 1);
    expect(Array.from(augmentOnce({}, x).dataSync())).toEqual(Array.from(x.dataSync()));
  });

  it("shifts by a fraction of the side below 1, by pixels from 1 on, each axis its own", () => {
    const n = 400;
    for (const [args, most] of [[{ widthShiftRange: 0.2 }, 3], [{ widthShiftRange: 2 }, 2]] as const) {
      const moved = centres(augmentOnce({ ...args, fillMode: "constant" }, dots(n, 7, 7)));
      const dx = moved.map(([, c]) => c - 7);
      expect(moved.every(([r]) => Math.abs(r - 7) < 1e-4)).toBe(true);
      expect(Math.max(...dx.map(Math.abs))).toBeLessThanOrEqual(most + 1e-4);
      expect(Math.max(...dx) - Math.min(...dx)).toBeGreaterThan(1.8 * most);
    }
    const down = centres(augmentOnce({ heightShiftRange: 0.2, fillMode: "constant" }, dots(n, 7, 7)));
    expect(down.every(([, c]) => Math.abs(c - 7) < 1e-4)).toBe(true);
    expect(Math.max(...down.map(([r]) => Math.abs(r - 7)))).toBeLessThanOrEqual(3 + 1e-4);
  });

  it("turns about the centre by up to rotationRange degrees", () => {
    const turned = centres(augmentOnce({ rotationRange: 30, fillMode: "constant" }, dots(400, 7, 12)));
    const angles = turned.map(([r, c]) => (Math.atan2(r - 7, c - 7) * 180) / Math.PI);
    // the dot stays (about) 5 pixels from the centre; bilinear sampling blurs it a little
    expect(turned.every(([r, c]) => Math.abs(Math.hypot(r - 7, c - 7) - 5) < 0.3)).toBe(true);
    expect(Math.max(...angles.map(Math.abs))).toBeLessThanOrEqual(31);
    expect(Math.max(...angles) - Math.min(...angles)).toBeGreaterThan(50);
  });

  it("zooms each axis by a factor from [1 − z, 1 + z], above 1 zooming out", () => {
    const zoomed = centres(augmentOnce({ zoomRange: [1.5, 2], fillMode: "constant" }, dots(200, 3, 11)));
    // zoomed out by 1.5 to 2: the dot, 4 pixels from the centre on each axis, comes 2 to 2.67 pixels from it, give or take the
    // output pixel it lands between (zoomed in, it would leave the 4)
    for (const [r, c] of zoomed) {
      for (const offset of [7 - r, c - 7]) {
        expect(offset).toBeGreaterThan(1.9);
        expect(offset).toBeLessThan(3.05);
      }
    }
    // each axis draws its own factor
    expect(zoomed.some(([r, c]) => Math.abs(7 - r - (c - 7)) > 0.2)).toBe(true);
  });

  it("mirrors about half the images with horizontalFlip, exactly", () => {
    const x = tf.randomUniform([200, 15, 15, 1], 0, 1, "float32", 2);
    const out = augmentOnce({ horizontalFlip: true }, x);
    const mirrored = tf.reverse(x, [2]);
    let flips = 0;
    for (let i = 0; i < 200; i++) {
      const o = Array.from(out.slice(i, 1).dataSync());
      const same = o.every((v, k) => Math.abs(v - x.slice(i, 1).dataSync()[k]!) < 1e-6);
      const flipped = o.every((v, k) => Math.abs(v - mirrored.slice(i, 1).dataSync()[k]!) < 1e-6);
      expect(same || flipped).toBe(true);
      if (flipped) flips++;
    }
    expect(flips).toBeGreaterThan(75);
    expect(flips).toBeLessThan(125);
  });

  it("rescales after the transform", () => {
    const x = tf.randomUniform([2, 15, 15, 1], 0, 255, "float32", 3);
    expect(Array.from(augmentOnce({ rescale: 1 / 255 }, x).dataSync())).toEqual(Array.from(tf.mul(x, 1 / 255).dataSync()));
  });

  it("draws afresh each batch, and the same again from the same seed", () => {
    const x = dots(8, 7, 12);
    const flow = imageDataGenerator({ rotationRange: 20 }).flow(x, labels(8), { seed: 5 });
    const [a, b] = [flow.augment(x).dataSync(), flow.augment(x).dataSync()];
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(Array.from(imageDataGenerator({ rotationRange: 20 }).flow(x, labels(8), { seed: 5 }).augment(x).dataSync())).toEqual(Array.from(a));
  });
});

describe("imageDataGenerator's arguments", () => {
  const x = dots(4, 7, 7);
  it.each([
    ["a negative zoom", () => imageDataGenerator({ zoomRange: -0.1 }), /imageDataGenerator: zoomRange must be a number from 0 up to, not including, 1.*e\.g\. imageDataGenerator\(\{ rotationRange: 10.*got -0\.1/],
    ["a zoom range upside down", () => imageDataGenerator({ zoomRange: [1.2, 0.8] }), /zoomRange must be/],
    ["an unknown fillMode", () => imageDataGenerator({ fillMode: "mirror" as never }), /fillMode must be one of "reflect", "wrap", "constant", "nearest".*got "mirror"/],
    ["a rotation above 180°", () => imageDataGenerator({ rotationRange: 200 }), /rotationRange must be a number of degrees from 0 to 180/],
    ["an argument it does not take", () => imageDataGenerator({ featurewiseCenter: true } as never), /"featurewiseCenter" is not an argument it takes here; it takes rotationRange/],
    ["labels of the wrong length", () => imageDataGenerator().flow(x, labels(3)), /datagen\.flow: y must hold one label per image of x \(4 images\); got 3 labels/],
    ["images without a channel axis", () => imageDataGenerator().flow(tf.zeros([4, 15, 15]), labels(4)), /x must be a tensor of images \[examples, height, width, channels\].*got shape \[4, 15, 15\]/],
    ["a batch size of 0", () => imageDataGenerator().flow(x, labels(4), { batchSize: 0 }), /batchSize must be a whole number greater than 0/],
  ])("refuses %s with a sentence naming it", (_, make, message) => {
    expect(make).toThrow(message);
  });
});

describe("model.fit(datagen.flow(x, y))", () => {
  function model() {
    const layers = kerasLayers(42);
    const m = layers.sequential({ name: "flowed" });
    m.add(layers.conv2d({ filters: 4, kernelSize: [3, 3], activation: "relu", inputShape: [15, 15, 1] }));
    m.add(layers.maxPooling2d({ poolSize: [2, 2] }));
    m.add(layers.flatten());
    m.add(layers.dense({ units: 10, activation: "softmax" }));
    m.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
    return m;
  }
  const x = tf.randomUniform([100, 15, 15, 1], 0, 1, "float32", 8);
  const y = tf.oneHot(tf.randomUniform([100], 0, 10, "int32", 9), 10).toFloat();
  const datagen = imageDataGenerator({ rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: 0.1 });

  it("trains with the flow's batch size, validation data and the usual progress, as one TensorFlow function, repeatably", async () => {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const m = model();
      const lines: string[] = [];
      setProgressOutput(() => ({ finished }) => lines.push(...finished));
      const flow = datagen.flow(x, y, { batchSize: 16, seed: 3 });
      try {
        const history = await m.fit(flow, { epochs: 2, validationData: [x.slice(0, 20), y.slice(0, 20)] });
        expect(history.params).toMatchObject({ batchSize: 16, steps: 7, samples: 100, validationSamples: 20 });
        expect(history.history.val_accuracy).toHaveLength(2);
      } finally {
        setProgressOutput(terminalOutput);
      }
      expect(lines).toContain("Epoch 2/2");
      expect(lines.some((l) => /^7\/7 \[=+\].*val_loss/.test(l))).toBe(true);
      expect(lines.filter((l) => l.startsWith("Note:"))).toEqual([]);
      expect(Object.values(trainFunction(m, m.optimizer, [metricNamed("accuracy")!], false, flow.augment).status())).toContainEqual({ compiled: true, refused: null });
      runs.push(m.getWeights().map((w) => Array.from(w.dataSync())));
    }
    expect(runs[1]).toEqual(runs[0]);
    // the transforms did change the batches: the same fit on the plain images ends elsewhere
    const plain = model();
    await plain.fit(x, y, { batchSize: 16, epochs: 2, verbose: 0 });
    expect(plain.getWeights().map((w) => Array.from(w.dataSync()))).not.toEqual(runs[0]);
  });

  it.each([
    ["validationSplit", { validationSplit: 0.2 }, /validationSplit cannot split a datagen\.flow\(…\), as in Keras; hold the validation images out yourself and give them as validationData/],
    ["batchSize", { batchSize: 64 }, /give the batch size to flow, e\.g\. datagen\.flow\(x, y, \{ batchSize: 128 \}\), not to fit/],
  ])("refuses %s given to fit beside a flow, before training", async (_, args, message) => {
    const m = model();
    const before = m.getWeights().map((w) => Array.from(w.dataSync()));
    await expect(m.fit(datagen.flow(x, y), { ...args, verbose: 0 })).rejects.toThrow(message);
    expect(m.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
  });

  it("refuses labels given twice", async () => {
    await expect(model().fit(datagen.flow(x, y), y as never)).rejects.toThrow(/a datagen\.flow\(x, y\) already holds the labels/);
  });
});

/**
 * Keras's random image layers: each against Keras 3.15's own output on fixed
 * images under fixed transformations (test/fixtures/keras-augmentation.json,
 * made by bench/keras_augmentation.py), their draws within range, the
 * identity where Keras's is, in models on the fast path, saved and loaded.
 */
import fs from "node:fs";
import path from "node:path";
import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { adadelta } from "../../src/engine/adadelta";
import { RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from "../../src/engine/randomLayers";
import { trainFunction } from "../../src/engine/step";
import { metricNamed } from "../../src/engine/losses";
import { setProgressOutput, terminalOutput } from "../../src/training/progress";
import { kerasLayers, type KerasSequential } from "../../src/training/sequential";
import { onBackend } from "../backends";
import { root, tempDir } from "../helpers";

interface Case {
  name: string;
  layer: string;
  config: Record<string, unknown>;
  parameters: Record<string, unknown>;
  output: number[];
}
const fixture = JSON.parse(fs.readFileSync(path.join(root, "test", "fixtures", "keras-augmentation.json"), "utf8")) as {
  images: number[]; shape: number[]; cases: Case[]; contrastFactor02: [number, number];
};
const images = () => tf.tensor4d(fixture.images, fixture.shape as [number, number, number, number]);
const vector = (values: unknown) => tf.tensor1d(values as number[]);

/** The layer of a case, and its output under the case's parameters. */
function ours(c: Case): Tensor {
  const x = images();
  const p = c.parameters;
  switch (c.layer) {
    case "RandomRotation":
      return new RandomRotation(c.config as never).transform(x, { degrees: vector(p["degrees"]) });
    case "RandomTranslation":
      return new RandomTranslation(c.config as never).transform(x, { pixels: [vector(p["down"]), vector(p["right"])] });
    case "RandomZoom":
      return new RandomZoom(c.config as never).transform(x, { heightZoom: vector(p["heightZoom"]), widthZoom: vector(p["widthZoom"]) });
    case "RandomFlip":
      return new RandomFlip(c.config as never).transform(x, { flips: tf.tensor1d(p["flips"] as boolean[], "bool") });
    case "RandomContrast":
      return new RandomContrast(c.config as never).transform(x, { factors: vector(p["factors"]) });
    default:
      throw new Error(`no layer ${c.layer}`);
  }
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i]! - b[i]!));
  return most;
};

describe("random image layers against Keras 3.15", () => {
  it("has a reference for every layer, fill mode and interpolation", () => {
    expect(new Set(fixture.cases.map((c) => c.layer))).toEqual(new Set(["RandomRotation", "RandomTranslation", "RandomZoom", "RandomFlip", "RandomContrast"]));
    const fills = fixture.cases.filter((c) => c.layer === "RandomRotation").map((c) => c.config["fillMode"]);
    expect(new Set(fills)).toEqual(new Set(["reflect", "wrap", "constant", "nearest"]));
  });

  for (const c of fixture.cases) {
    it(`${c.name}: every pixel, border included, within 1e-4 of Keras's`, () => {
      const out = ours(c);
      expect(out.shape).toEqual(fixture.shape);
      expect(maxAbsDiff(out.dataSync(), c.output)).toBeLessThan(1e-4);
    });
  }

  it("transforms the same on tfjs's pure-JS backend as on TensorFlow's", async () => {
    const cases = fixture.cases.filter((c) => ["RandomRotation", "RandomZoom", "RandomFlip", "RandomContrast"].includes(c.layer));
    const native = cases.map((c) => Array.from(ours(c).dataSync()));
    const js = await onBackend("cpu", () => cases.map((c) => Array.from(ours(c).dataSync())));
    js.forEach((values, i) => expect(maxAbsDiff(values, native[i]!), cases[i]!.name).toBeLessThan(1e-4));
  });

  it("draws a single contrast factor as Keras 3.15 does, from [1, 1 + f]", () => {
    const [low, high] = fixture.contrastFactor02;
    const { factors } = new RandomContrast({ factor: 0.2, seed: 1 }).draw(4000);
    const values = Array.from(factors.dataSync());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...values)).toBeLessThanOrEqual(1.2);
    expect(Math.min(...values)).toBeCloseTo(low, 2);
    expect(Math.max(...values)).toBeCloseTo(high, 2);
  });
});

describe("random image layers' draws", () => {
  const spanOf = (t: Tensor): [number, number] => {
    const v = Array.from(t.dataSync());
    return [Math.min(...v), Math.max(...v)];
  };

  it("stay within each layer's range and cover it", () => {
    const n = 2000;
    const [rotMin, rotMax] = spanOf(new RandomRotation({ factor: 0.05, seed: 1 }).draw(n).degrees);
    expect(rotMin).toBeGreaterThanOrEqual(-18);
    expect(rotMax).toBeLessThanOrEqual(18);
    expect(rotMax - rotMin).toBeGreaterThan(35);
    const shifts = new RandomTranslation({ heightFactor: 0.1, widthFactor: [0, 0.2], seed: 2 }).draw(n, 28, 20).pixels;
    const [downMin, downMax] = spanOf(shifts[0]);
    const [rightMin, rightMax] = spanOf(shifts[1]);
    expect([downMin, downMax].every((v) => v >= -2.8 && v <= 2.8)).toBe(true);
    expect(downMax - downMin).toBeGreaterThan(5.4);
    expect(rightMin).toBeGreaterThanOrEqual(0);
    expect(rightMax).toBeLessThanOrEqual(4);
    const zooms = new RandomZoom({ heightFactor: [-0.3, -0.1], seed: 3 }).draw(n);
    const [zMin, zMax] = spanOf(zooms.heightZoom);
    expect(zMin).toBeGreaterThanOrEqual(0.7);
    expect(zMax).toBeLessThanOrEqual(0.9);
    // without a widthFactor the width zooms as the height does
    expect(Array.from(zooms.widthZoom.dataSync())).toEqual(Array.from(zooms.heightZoom.dataSync()));
    const flips = Array.from(new RandomFlip({ seed: 4 }).draw(n).flips.dataSync());
    const flipped = flips.filter(Boolean).length / n;
    expect(flipped).toBeGreaterThan(0.45);
    expect(flipped).toBeLessThan(0.55);
  });

  it("differ from call to call, and repeat with the same seed", () => {
    const a = new RandomRotation({ factor: 0.1, seed: 9 });
    const b = new RandomRotation({ factor: 0.1, seed: 9 });
    const [a1, a2] = [a.draw(8).degrees.dataSync(), a.draw(8).degrees.dataSync()];
    expect(Array.from(a1)).not.toEqual(Array.from(a2));
    expect(Array.from(b.draw(8).degrees.dataSync())).toEqual(Array.from(a1));
  });

  it("with a factor of 0, change nothing", () => {
    const x = images();
    const layers = [
      new RandomRotation({ factor: 0, seed: 1 }),
      new RandomTranslation({ heightFactor: 0, widthFactor: 0, seed: 1 }),
      new RandomZoom({ heightFactor: 0, seed: 1 }),
      new RandomContrast({ factor: 0, valueRange: [0, 1], seed: 1 }),
    ];
    for (const layer of layers) expect(maxAbsDiff(layer.augment(x).dataSync(), x.dataSync()), layer.getClassName()).toBeLessThan(1e-6);
  });

  it("pass images through unchanged in inference mode", () => {
    // 16 images, seeded: training surely changes some of them (a flip leaves each alone half the time)
    const x = tf.tile(images(), [8, 1, 1, 1]);
    for (const layer of [new RandomRotation({ factor: 0.2, seed: 1 }), new RandomFlip({ seed: 1 }), new RandomContrast({ factor: 0.5, seed: 1 })]) {
      expect(Array.from((layer.apply(x, { training: false }) as Tensor).dataSync())).toEqual(Array.from(x.dataSync()));
      expect(Array.from((layer.apply(x, { training: true }) as Tensor).dataSync())).not.toEqual(Array.from(x.dataSync()));
    }
  });
});

describe("random image layers' arguments", () => {
  const layers = kerasLayers(1);
  it.each([
    ["a rotation factor above 1", () => layers.randomRotation({ factor: 1.5 }), /layers\.randomRotation: factor .* from -1 to 1.*e\.g\. layers\.randomRotation\(\{ factor: 0\.05 \}\); got 1\.5/],
    ["an unknown fillMode", () => layers.randomRotation({ factor: 0.1, fillMode: "mirror" as never }), /fillMode must be one of "reflect", "wrap", "constant", "nearest"; got "mirror"/],
    ["a zoom of -1", () => layers.randomZoom({ heightFactor: -1 }), /layers\.randomZoom: heightFactor must be above -1/],
    ["a translation without widthFactor", () => layers.randomTranslation({ heightFactor: 0.1 } as never), /widthFactor .* got undefined/],
    ["an unknown flip mode", () => layers.randomFlip({ mode: "diagonal" as never }), /mode must be one of "horizontal", "vertical", "horizontal_and_vertical"/],
    ["a contrast value range upside down", () => layers.randomContrast({ factor: 0.2, valueRange: [1, 0] }), /valueRange must be \[low, high\]/],
    ["a contrast factor above 1", () => layers.randomContrast({ factor: 2 }), /factor must be a number from 0 to 1/],
  ])("refuses %s with a sentence naming the argument", (_, make, message) => {
    expect(make).toThrow(message);
  });
});

/** Model 2 of the seed, smaller, with the notebook's three augmentation layers in front (or, `plain`, without). */
function augmented(seed: number | undefined, name = "model_3", plain = false): KerasSequential {
  const layers = kerasLayers(seed);
  const model = layers.sequential({ name });
  const input = { inputShape: [12, 12, 1] };
  if (!plain) {
    model.add(layers.randomRotation({ factor: 0.05, ...input }));
    model.add(layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1 }));
    model.add(layers.randomZoom({ heightFactor: 0.1 }));
  }
  model.add(layers.conv2d({ filters: 4, kernelSize: [3, 3], activation: "relu", ...(plain ? input : {}) }));
  model.add(layers.maxPooling2d({ poolSize: [2, 2] }));
  model.add(layers.dropout({ rate: 0.25 }));
  model.add(layers.flatten());
  model.add(layers.dense({ units: 10, activation: "softmax" }));
  model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
  return model;
}
/** The same network without the augmentation layers. */
const withoutAugmentation = (seed: number, name: string) => augmented(seed, name, true);
const data = () => ({
  x: tf.randomUniform([96, 12, 12, 1], 0, 1, "float32", 5),
  y: tf.oneHot(tf.randomUniform([96], 0, 10, "int32", 6), 10).toFloat(),
});
const weightsOf = (m: KerasSequential) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe("a model with augmentation layers in front", () => {
  it("trains on the fast path as one TensorFlow function, with no note, and repeats with the same seed", async () => {
    const { x, y } = data();
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const model = augmented(42);
      const lines: string[] = [];
      setProgressOutput(() => ({ finished }) => lines.push(...finished));
      try {
        await model.fit(x, y, { batchSize: 16, epochs: 2, verbose: 2 });
      } finally {
        setProgressOutput(terminalOutput);
      }
      expect(lines).toContain("Epoch 2/2");
      expect(lines.filter((l) => l.startsWith("Note:"))).toEqual([]);
      expect(Object.values(trainFunction(model, model.optimizer, [metricNamed("accuracy")!], false).status())).toEqual([{ compiled: true, refused: null }]);
      runs.push(weightsOf(model));
    }
    expect(runs[1]).toEqual(runs[0]);
    // and the augmentation did something: the same network without it ends elsewhere
    const plain = withoutAugmentation(42, "plain");
    plain.setWeights(augmented(42, "fresh").getWeights());
    await plain.fit(x, y, { batchSize: 16, epochs: 2, verbose: 0 });
    expect(weightsOf(plain)).not.toEqual(runs[0]);
  });

  it("evaluates and predicts on the images as they are", () => {
    const { x, y } = data();
    const model = augmented(7);
    const plain = withoutAugmentation(7, "plain_eval");
    plain.setWeights(model.getWeights());
    expect(model.evaluate(x, y)).toEqual(plain.evaluate(x, y));
    expect(Array.from((model.predict(x) as Tensor).dataSync())).toEqual(Array.from((plain.predict(x) as Tensor).dataSync()));
  });

  it("saves and loads with model.save and tf.loadLayersModel, arguments and seed included", async () => {
    const model = augmented(3);
    const dir = tempDir("augmented-model");
    await model.save(`file://${dir}`);
    const loaded = await tf.loadLayersModel(`file://${dir}/model.json`);
    expect(loaded.layers.slice(0, 3).map((l) => l.getClassName())).toEqual(["RandomRotation", "RandomTranslation", "RandomZoom"]);
    expect(loaded.layers.slice(0, 3).map((l) => l.getConfig())).toEqual(model.layers.slice(0, 3).map((l) => l.getConfig()));
    expect(loaded.layers[0]!.getConfig()).toMatchObject({ factor: [-0.05, 0.05], fillMode: "reflect", interpolation: "bilinear", fillValue: 0, seed: 4 });
    const x = data().x;
    expect(Array.from((loaded.predict(x) as Tensor).dataSync())).toEqual(Array.from((model.predict(x) as Tensor).dataSync()));
  });

  it("refuses an augmentation layer after a layer with weights, saying where it goes", async () => {
    const layers = kerasLayers(1);
    const model = layers.sequential({ name: "late" });
    model.add(layers.conv2d({ filters: 4, kernelSize: [3, 3], activation: "relu", inputShape: [12, 12, 1] }));
    model.add(layers.randomRotation({ factor: 0.1 }));
    model.add(layers.flatten());
    model.add(layers.dense({ units: 10, activation: "softmax" }));
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }) });
    const { x, y } = data();
    await expect(model.fit(x, y, { verbose: 0 })).rejects.toThrow(/random_rotation \(RandomRotation\) comes after conv2d, a layer with weights.*add them first/);
  });
});

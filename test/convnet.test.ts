/**
 * What the network learned (src/report/convnet.ts): the numbers behind each
 * picture, on a model trained through model.fit (the fast path) and on a
 * hand-made model whose Grad-CAM answer is known.
 */
import type { Tensor, Tensor4D } from "@tensorflow/tfjs-node";
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../src/core/backend";
import type { MnistData } from "../src/data/mnist";
import { adadelta } from "../src/engine";
import { classActivation, featureMaps, filterGrid, filterPatternData, filterPatterns, gradCamMaps, kernelTiles, layerActivations } from "../src/report/convnet";
import { testReport } from "../src/report/gallery";
import type { TileHeatmapTrace } from "../src/report/charts";
import type { TileGrid } from "../src/report/images";
import { kerasLayers, type KerasSequential } from "../src/training/sequential";
import { typedValues } from "./helpers";
import { preparedMnist } from "./mnist";

let data: MnistData;
let model: KerasSequential;

/** A student's variant: padding "same" and a third convolution, trained briefly on the fast path. */
beforeAll(async () => {
  data = await preparedMnist(600);
  const layers = kerasLayers(7);
  model = layers.sequential({ name: "variant" });
  model.add(layers.conv2d({ filters: 8, kernelSize: [3, 3], activation: "relu", padding: "same", inputShape: [28, 28, 1] }));
  model.add(layers.conv2d({ filters: 16, kernelSize: [3, 3], activation: "relu", padding: "same" }));
  model.add(layers.maxPooling2d({ poolSize: [2, 2] }));
  model.add(layers.conv2d({ filters: 16, kernelSize: [3, 3], activation: "relu" }));
  model.add(layers.flatten());
  model.add(layers.dense({ units: 10, activation: "softmax" }));
  model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1 }), metrics: ["accuracy"] });
  await model.fit(data.xTrain, data.yTrain, { batchSize: 64, epochs: 2, verbose: 0 });
}, 120_000);

const isGrid = (value: TileGrid | string): value is TileGrid => typeof value !== "string";
const heatmaps = (grid: TileGrid) => grid.data as TileHeatmapTrace[];

describe("layerActivations and featureMaps", () => {
  it("give each convolution's and pooling's output for one digit, equal to tfjs-layers' own layers applied in turn", () => {
    const image = data.xTest.slice(3, 1) as Tensor4D;
    const activations = layerActivations(model, image);
    expect(activations.map((a) => [a.layer.name, a.shape])).toEqual([
      ["conv2d", [28, 28, 8]], ["conv2d_1", [28, 28, 16]], ["max_pooling2d", [14, 14, 16]], ["conv2d_2", [12, 12, 16]],
    ]);
    let h: Tensor = image;
    for (const layer of model.layers) {
      h = layer.apply(h) as Tensor;
      const found = activations.find((a) => a.layer === layer);
      if (found === undefined) continue;
      const expected = h.dataSync();
      expect(found.values.length).toBe(expected.length);
      expect(Math.max(...found.values.map((v, i) => Math.abs(v - expected[i]!)))).toBeLessThan(1e-4);
    }
    // and the whole stack is what model.predict gives: the trained weights are the layers' own
    const predicted = (model.predict(image) as Tensor).dataSync();
    expect(Math.max(...Array.from(h.dataSync(), (v, i) => Math.abs(v - predicted[i]!)))).toBeLessThan(1e-5);
  });

  it("draw one grid per layer, headed by its name and shape, for all three convolutions of the variant", () => {
    const grids = featureMaps(model, data, 3);
    expect(Array.isArray(grids)).toBe(true);
    const alts = (grids as TileGrid[]).map((g) => g.alt);
    expect(alts).toEqual([
      "variant: the 8 feature maps of conv2d (28×28×8) for test image 3, labelled 0",
      "variant: the 16 feature maps of conv2d_1 (28×28×16) for test image 3, labelled 0",
      "variant: the 16 feature maps of max_pooling2d (14×14×16) for test image 3, labelled 0",
      "variant: the 16 feature maps of conv2d_2 (12×12×16) for test image 3, labelled 0",
    ]);
    const first = (grids as TileGrid[])[0]!;
    expect(first.layout.title.text).toBe("conv2d (Conv2D) 28×28×8");
    // one image per channel, its own values stretched to the grey scale: darkest 0 and brightest 255 unless flat
    expect(heatmaps(first).map((t) => t.z.shape)).toEqual(new Array(8).fill("28,28"));
    for (const trace of heatmaps(first)) {
      const flat = typedValues(trace.z).flat();
      expect(Math.min(...flat)).toBe(0);
      expect([0, 255]).toContain(Math.max(...flat));
    }
    expect(first.layout.annotations!.map((a) => a.text)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    const n = data.xTest.shape[0]!;
    expect(() => featureMaps(model, data, n)).toThrow(`featureMaps: test image indices are whole numbers from 0 to ${n - 1}; got ${n}.`);
    expect(() => featureMaps(model, data, 1.5)).toThrow(/got 1\.5\.$/);
  });
});

describe("kernelTiles and filterGrid", () => {
  it("show each filter's kernel, with zero the same middle colour in every filter", () => {
    const tiles = kernelTiles(model)!;
    const kernel = model.layers[0]!.getWeights()[0]!.arraySync() as number[][][][]; // [3][3][1][8]
    expect(tiles.kernels).toHaveLength(8);
    for (let f = 0; f < 8; f++) {
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) expect(tiles.kernels[f]![r * 3 + c]).toBeCloseTo(kernel[r]![c]![0]![f]!, 6);
    }
    expect(tiles.limit).toBeCloseTo(Math.max(...kernel.flat(3).map(Math.abs)), 6);
    // a later convolution by name: its kernels averaged over the 16 input channels
    const later = kernelTiles(model, "conv2d_2")!;
    const k2 = tf.mean(model.layers[3]!.getWeights()[0]!, 2).arraySync() as number[][][];
    expect(later.kernels[5]![4]).toBeCloseTo(k2[1]![1]![5]!, 6);
    expect(() => kernelTiles(model, "dense")).toThrow(/variant has no convolution named "dense"; its convolutions are "conv2d", "conv2d_1", "conv2d_2"\./);
    const grid = filterGrid(model);
    expect(isGrid(grid) && grid.alt).toBe("variant: the 8 filters of conv2d, red positive and blue negative weights");
    // each filter's weights as they are, on one scale from −limit (blue) through 0 to +limit (red) for all
    const traces = heatmaps(grid as TileGrid);
    expect(traces.map((t) => [t.zmin, t.zmax])).toEqual(new Array(8).fill([-tiles.limit, tiles.limit]));
    expect(typedValues(traces[3]!.z)[1]![2]).toBeCloseTo(kernel[1]![2]![0]![3]!, 6);
  });
});

describe("filterPatternData", () => {
  it("raises each filter's mean response by gradient ascent on the input, at a fixed mean brightness, from the same seeded noise each time", () => {
    const found = filterPatternData(model, "conv2d_1", { count: 8 })!;
    expect(found.patterns).toHaveLength(8);
    expect(found.patterns[0]).toHaveLength(28 * 28);
    for (const pattern of found.patterns) {
      expect(Math.min(...pattern) >= 0 && Math.max(...pattern) <= 1).toBe(true);
      expect(pattern.reduce((a, b) => a + b, 0) / pattern.length).toBeCloseTo(0.5, 1); // texture, not a brighter field
    }
    // every filter's mean response, taken before its ReLU (so a filter silent on the noise still has a way up), rose
    for (const [f, before] of found.before.entries()) expect(found.after[f]! - before).toBeGreaterThan(0.02);
    // the response is the layer's own convolution of the pattern, before its ReLU
    const [kernel, bias] = model.layers[1]!.getWeights();
    const input = model.layers[0]!.apply(tf.tensor4d(found.patterns[0]!, [1, 28, 28, 1])) as Tensor;
    const own = tf.mean(tf.add(tf.conv2d(input as Tensor4D, kernel as Tensor4D, 1, "same"), bias!), [0, 1, 2]).dataSync()[0]!;
    expect(own).toBeCloseTo(found.after[0]!, 4);
    const again = filterPatternData(model, "conv2d_1", { count: 8 })!;
    expect(again.after).toEqual(found.after);
    const grid = filterPatterns(model, "conv2d_1", { count: 8, steps: 5 });
    expect(isGrid(grid) && grid.alt).toBe("variant: the input pattern that most activates each of the first 8 filters of conv2d_1, found by gradient ascent");
  });
});

describe("gradCamMaps", () => {
  it("finds where a hand-made network looks: the input itself for the class it favours, nothing for the other", () => {
    // conv: a 1×1 identity; dense: class 0 sums every position, class 1 subtracts them
    const net = tf.sequential({ name: "handmade" });
    net.add(tf.layers.conv2d({ filters: 1, kernelSize: 1, useBias: false, inputShape: [4, 4, 1] }));
    net.add(tf.layers.flatten());
    net.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    net.layers[0]!.setWeights([tf.ones([1, 1, 1, 1])]);
    net.layers[2]!.setWeights([tf.concat([tf.ones([16, 1]), tf.fill([16, 1], -1)], 1), tf.zeros([2])]);
    const pixels = new Float32Array(16);
    pixels[1 * 4 + 2] = 1;
    pixels[3 * 4 + 0] = 0.5;
    const image = tf.tensor4d(pixels, [1, 4, 4, 1]);
    const predicted = gradCamMaps(net, image);
    expect(predicted.classes).toEqual([0]);
    expect(Array.from(predicted.maps[0]!, (v) => Number(v.toFixed(6)))).toEqual(Array.from(pixels));
    expect(Array.from(gradCamMaps(net, image, [1]).maps[0]!)).toEqual(new Array(16).fill(0));
  });

  it("lays heat maps over the model's most confident mistakes, with their true and predicted classes", () => {
    const report = testReport(model, data);
    const grid = classActivation(model, data, report, { count: 3 });
    expect(isGrid(grid)).toBe(true);
    expect((grid as TileGrid).alt).toMatch(
      /^variant: Grad-CAM heat maps over 3 test digits \(true \d predicted \d; true \d predicted \d; true \d predicted \d\)$/,
    );
    expect((grid as TileGrid).data.map((t) => [t.type, t.z.shape])).toEqual(new Array(3).fill(["image", "28,28,3"]));
    const { maps } = gradCamMaps(model, tf.gather(data.xTest, [0, 1]) as Tensor4D);
    expect(maps.map((m) => [m.length, Math.max(...m) <= 1 + 1e-6, Math.min(...m) >= 0])).toEqual([[784, true, true], [784, true, true]]);
  });
});

describe("every picture", () => {
  it("leaves no tensor behind (the notebook's cells are re-run many times in one kernel)", () => {
    const report = testReport(model, data);
    const live = tf.memory().numTensors;
    filterGrid(model);
    featureMaps(model, data, 0);
    filterPatterns(model, undefined, { count: 4, steps: 2 });
    classActivation(model, data, report, { count: 2 });
    expect(tf.memory().numTensors).toBe(live);
  });
});

describe("a model without a convolution", () => {
  it("gets a sentence naming it and what to add, not an error", () => {
    const layers = kerasLayers(1);
    const dense = layers.sequential({ name: "dense_only" });
    dense.add(layers.flatten({ inputShape: [28, 28, 1] }));
    dense.add(layers.dense({ units: 10, activation: "softmax" }));
    for (const result of [filterGrid(dense), featureMaps(dense, data), filterPatterns(dense), classActivation(dense, data, testReport(dense, data))]) {
      expect(result).toMatch(/^dense_only has no convolution layer, so there are no .* to show\. Add one, e\.g\. model\.add\(layers\.conv2d/);
    }
  });
});

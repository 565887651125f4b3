import { describe, expect, it } from "vitest";
import { tf } from "../src/core/backend";
import type { RandomRotation, RandomZoom } from "../src/engine/randomLayers";
import { loadMnist } from "../src/data/mnist";
import { augmentedGrid, mistakeGallery, sampleGrid, type TestReport } from "../src/report/gallery";
import type { TileHeatmapTrace } from "../src/report/charts";
import { tileGrid, type TileGrid } from "../src/report/images";
import { typedValues } from "./helpers";
import { imageDataGenerator } from "../src/training/generator";
import { kerasLayers } from "../src/training/sequential";

describe("the notebook's pictures of the data", () => {
  it("know how bright a full pixel is, before and after rescaling", async () => {
    const data = await loadMnist({ limit: 20 });
    expect(data.pixelMax).toBe(255);
    expect(tf.max(data.xTrain).dataSync()[0]).toBe(255);
    data.rescale(255);
    expect(data.pixelMax).toBe(1);
    expect(tf.max(data.xTrain).dataSync()[0]).toBe(1);
    data.reshape([28, 28, 1]);
    // the same picture whatever the scale of the values
    const rescaled = sampleGrid(data, 4);
    data.rescale(1);
    const raw = sampleGrid(data, 4);
    expect(raw.layout).toEqual(rescaled.layout);
    // each pixel's grey level out of 255: the raw bytes themselves
    const greys = (grid: TileGrid) => grid.data.map((t) => typedValues((t as TileHeatmapTrace).z).flat());
    expect(greys(raw)).toEqual(greys(rescaled));
    expect(greys(raw)[0]).toEqual(Array.from(data.xTrain.slice(0, 1).dataSync(), (v) => v));
    expect(new Set(greys(raw).flat()).size).toBeGreaterThan(100); // real digits, not a blank grid
  });

  it("show the test images of the most confident mistakes, each with its own pixels", async () => {
    const data = await loadMnist({ limit: 20 });
    data.rescale(255);
    const labels = data.testLabels();
    // Probabilities made by hand: examples 3 and 7 wrong (7 more confidently), the rest right.
    const probabilities = new Float32Array(20 * 10);
    labels.forEach((label, i) => {
      const predicted = i === 3 || i === 7 ? (label + 1) % 10 : label;
      probabilities[i * 10 + predicted] = i === 7 ? 0.9 : i === 3 ? 0.6 : 1;
    });
    const report: TestReport = { matrix: [], classNames: data.classNames, probabilities };
    const gallery = mistakeGallery(data, report, 5, 2);

    const pixels = (i: number) => data.xTest.slice(i, 1).dataSync();
    const expected = tileGrid([7, 3].map((i) => ({
      values: pixels(i),
      caption: [`true ${labels[i]}`, `predicted ${(labels[i]! + 1) % 10}`, `${i === 7 ? 90 : 60} %`],
    })), { rows: 28, cols: 28, columns: 2, palette: { grey: 1 } }, "the 2 most confident mistakes");
    expect(gallery).toEqual(expected);
    expect(gallery.alt).toBe("the 2 most confident mistakes");
  });

  it("show one training image as it is, then as the model's augmentation layers or a flow change it, each draw its own", async () => {
    const data = await loadMnist({ limit: 20 });
    data.reshape([28, 28, 1]);
    data.rescale(255);
    const model = (seed: number) => {
      const layers = kerasLayers(seed);
      const m = layers.sequential({ name: `augmented_${seed}` });
      m.add(layers.randomRotation({ factor: 0.1, inputShape: [28, 28, 1] }));
      m.add(layers.randomZoom({ heightFactor: 0.2 }));
      m.add(layers.flatten());
      m.add(layers.dense({ units: 10, activation: "softmax" }));
      return m;
    };
    const grid = augmentedGrid(model(5), data, 3, 4, 5);
    // the same draws by hand, from a model built alike
    const [rotation, zoom] = model(5).layers as [RandomRotation, RandomZoom];
    const image = data.xTrain.slice(3, 1);
    const changed = zoom.augment(rotation.augment(tf.tile(image, [4, 1, 1, 1])));
    const tiles = [image, ...tf.split(changed, 4)].map((t, i) => ({ values: t.dataSync(), caption: [i === 0 ? "as is" : `draw ${i}`] }));
    expect(grid.alt).toBe("training image 3 as it is, then 4 times augmented");
    expect(grid).toEqual(tileGrid(tiles, { rows: 28, cols: 28, columns: 5, palette: { grey: 1 } }, grid.alt!));
    const values = tiles.map((t) => Array.from(t.values).join());
    expect(new Set(values).size).toBe(5);

    const flow = imageDataGenerator({ rotationRange: 20 }).flow(data.xTrain, data.yTrain, { seed: 1 });
    expect(augmentedGrid(flow, data, 0, 3).alt).toBe("training image 0 as it is, then 3 times augmented");
    const layers = kerasLayers(1);
    const plain = layers.sequential({ name: "plain" });
    plain.add(layers.flatten({ inputShape: [28, 28, 1] }));
    expect(() => augmentedGrid(plain, data)).toThrow(/augmentedGrid: plain does not start with augmentation layers; add them first/);
  });
});

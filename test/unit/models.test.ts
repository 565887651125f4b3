import type { Tensor } from "@tensorflow/tfjs-node";
import type { Network } from "../../src/core/network";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { buildConvNet } from "../../src/training/models";

const layersOf = (model: Network): Array<[string, string, number[], number]> =>
  model.layers.map((l) => [l.name, l.getClassName(), (l.outputShape as number[]).slice(1), l.countParams()]);

describe("buildConvNet", () => {
  it("model 1 has the seed's layers, output shapes and 1,199,882 parameters", () => {
    const model = buildConvNet({ seed: 1 });
    expect(layersOf(model)).toEqual([
      ["conv2d", "Conv2D", [26, 26, 32], 320],
      ["conv2d_1", "Conv2D", [24, 24, 64], 18496],
      ["max_pooling2d", "MaxPooling2D", [12, 12, 64], 0],
      ["flatten", "Flatten", [9216], 0],
      ["dense", "Dense", [128], 1179776],
      ["dense_1", "Dense", [10], 1290],
    ]);
    expect(model.countParams()).toBe(1_199_882);
    const lines: string[] = [];
    model.summary(undefined, undefined, (line) => lines.push(String(line)));
    expect(lines.join("\n")).toMatch(/Total params: 1,199,882/);
  });

  it("model 2 adds Dropout 0.25 after pooling and 0.5 after Dense(128), same parameter count", () => {
    const model = buildConvNet({ dropoutConv: 0.25, dropoutDense: 0.5, seed: 1, name: "sequential_1" });
    expect(layersOf(model).map(([name, type, shape]) => [name, type, shape])).toEqual([
      ["conv2d", "Conv2D", [26, 26, 32]],
      ["conv2d_1", "Conv2D", [24, 24, 64]],
      ["max_pooling2d", "MaxPooling2D", [12, 12, 64]],
      ["dropout", "Dropout", [12, 12, 64]],
      ["flatten", "Flatten", [9216]],
      ["dense", "Dense", [128]],
      ["dropout_1", "Dropout", [128]],
      ["dense_1", "Dense", [10]],
    ]);
    expect(model.countParams()).toBe(1_199_882);
    expect((model.layers[3]!.getConfig() as { rate: number }).rate).toBe(0.25);
    expect((model.layers[6]!.getConfig() as { rate: number }).rate).toBe(0.5);
  });

  it("a seed fixes the initial weights; no seed gives different ones", () => {
    const weights = (m: Network) => m.layers[0]!.getWeights()[0]!.dataSync().slice(0, 20);
    const a = weights(buildConvNet({ seed: 7, name: "a" }));
    const b = weights(buildConvNet({ seed: 7, name: "b" }));
    const c = weights(buildConvNet({ name: "c" }));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it("dropout masks change from step to step but repeat for the same seed; inference keeps every unit", () => {
    const x = tf.ones([4, 28, 28, 1]);
    const masks = (name: string) => {
      const model = buildConvNet({ dropoutConv: 0.25, dropoutDense: 0.5, seed: 3, name });
      return [0, 1].map(() => Array.from((model.apply(x, { training: true }) as Tensor).dataSync()));
    };
    const [first, second] = masks("d1");
    const [again] = masks("d2");
    expect(first).not.toEqual(second);
    expect(first).toEqual(again);
    const model = buildConvNet({ dropoutConv: 0.25, dropoutDense: 0.5, seed: 3, name: "d3" });
    const p1 = (model.predict(x) as Tensor).dataSync();
    const p2 = (model.predict(x) as Tensor).dataSync();
    expect(Array.from(p1)).toEqual(Array.from(p2));
  });

  it("leaves the model to its caller: dispose() frees every weight", () => {
    const before = tf.memory().numTensors;
    buildConvNet({ seed: 1, name: "owned" }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects dropout rates outside [0, 1)", () => {
    expect(() => buildConvNet({ dropoutConv: 1 })).toThrow("dropoutConv must be a number from 0 (no dropout) up to, not including, 1; got 1.");
    expect(() => buildConvNet({ dropoutDense: -0.1 })).toThrow("dropoutDense must be a number from 0 (no dropout) up to, not including, 1; got -0.1.");
  });
});

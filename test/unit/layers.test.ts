import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import type { KerasLayers } from "../../src/model/layers";
import { kerasLayers, type KerasSequential } from "../../src/training/sequential";
import { buildConvNet } from "../../src/training/models";
import { kerasShape, kerasSummary } from "../../src/model/summary";

/** The seed's model cells, written as the notebook writes them. */
function model1(layers: KerasLayers<KerasSequential>, filters = 64): KerasSequential {
  const model = layers.sequential({ name: "model_1" });
  model.add(layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
  model.add(layers.conv2d({ filters, kernelSize: [3, 3], activation: "relu" }));
  model.add(layers.maxPooling2d({ poolSize: [2, 2] }));
  model.add(layers.flatten());
  model.add(layers.dense({ units: 128, activation: "relu" }));
  model.add(layers.dense({ units: 10, activation: "softmax" }));
  return model;
}
function model2(layers: KerasLayers<KerasSequential>): KerasSequential {
  const model = layers.sequential({ name: "model_2" });
  model.add(layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
  model.add(layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: "relu" }));
  model.add(layers.maxPooling2d({ poolSize: [2, 2] }));
  model.add(layers.dropout({ rate: 0.25 }));
  model.add(layers.flatten());
  model.add(layers.dense({ units: 128, activation: "relu" }));
  model.add(layers.dropout({ rate: 0.5 }));
  model.add(layers.dense({ units: 10, activation: "softmax" }));
  return model;
}
const weightsOf = (m: KerasSequential) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe("kerasLayers", () => {
  it("names layers as Keras does across the session's models, as in the seed", () => {
    const layers = kerasLayers(42);
    const [a, b] = [model1(layers), model2(layers)];
    expect([a.name, b.name]).toEqual(["model_1", "model_2"]);
    expect(a.layers.map((l) => l.name)).toEqual(["conv2d", "conv2d_1", "max_pooling2d", "flatten", "dense", "dense_1"]);
    expect(b.layers.map((l) => l.name)).toEqual(["conv2d_2", "conv2d_3", "max_pooling2d_1", "dropout", "flatten_1", "dense_2", "dropout_1", "dense_3"]);
  });

  it("gives each model the initial weights buildConvNet gives for the same seed: layer k's from seed + k", () => {
    const layers = kerasLayers(42);
    expect(weightsOf(model1(layers))).toEqual(weightsOf(buildConvNet({ seed: 42 })));
    expect(weightsOf(model2(layers))).toEqual(weightsOf(buildConvNet({ seed: 42, dropoutConv: 0.25, dropoutDense: 0.5 })));
    const first = model1(kerasLayers(42)).layers[0]!.getWeights()[0]!;
    expect(Array.from(first.dataSync())).toEqual(Array.from(tf.initializers.glorotUniform({ seed: 43 }).apply([3, 3, 1, 32]).dataSync()));
  });

  it("building a name again (re-running its cell) frees the previous model and keeps its layer names", () => {
    const layers = kerasLayers(1);
    const first = model1(layers);
    model2(layers);
    const before = tf.memory().numTensors;
    const again = model1(layers);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => first.layers[0]!.getWeights()[0]!.dataSync()).toThrow(/disposed/);
    expect(again.name).toBe("model_1");
    expect(again.layers.map((l) => l.name)).toEqual(["conv2d", "conv2d_1", "max_pooling2d", "flatten", "dense", "dense_1"]);
    expect(weightsOf(again)).toEqual(weightsOf(model1(kerasLayers(1))));
  });

  it("names an unnamed model as Keras does, and refuses a seed that is not a whole number", () => {
    const layers = kerasLayers(7);
    expect([layers.sequential().name, layers.sequential().name]).toEqual(["sequential", "sequential_1"]);
    expect(() => kerasLayers(1.5)).toThrow("kerasLayers: the seed must be a whole number, e.g. 42; got 1.5.");
  });

  it("refuses a dropout rate outside [0, 1) in words", () => {
    expect(() => kerasLayers().dropout({ rate: 1 })).toThrow("Dropout rate must be a number from 0 (no dropout) up to, not including, 1; got 1.");
  });
});

describe("model.summary() in Keras's layout", () => {
  it("prints the seed's summary of model 1, and of model 2 after it", () => {
    const layers = kerasLayers(42);
    const lines: string[] = [];
    model1(layers).summary(undefined, undefined, (line) => lines.push(String(line)));
    const text = lines.join("\n");
    expect(text.split("\n").filter((l) => !/^[_=]+$/.test(l))).toEqual([
      'Model: "model_1"',
      " Layer (type)                 Output Shape              Param #",
      " conv2d (Conv2D)              (None, 26, 26, 32)        320",
      " conv2d_1 (Conv2D)            (None, 24, 24, 64)        18496",
      " max_pooling2d (MaxPooling2D) (None, 12, 12, 64)        0",
      " flatten (Flatten)            (None, 9216)              0",
      " dense (Dense)                (None, 128)               1179776",
      " dense_1 (Dense)              (None, 10)                1290",
      "Total params: 1,199,882",
      "Trainable params: 1,199,882",
      "Non-trainable params: 0",
    ]);
    const second = kerasSummary(model2(layers));
    expect(second).toMatch(/^Model: "model_2"/);
    expect(second).toContain(" dropout_1 (Dropout)");
    expect(second).toContain("Total params: 1,199,882");
  });

  it("counts an edited model: 48 filters give 900,346 parameters; BatchNormalization's moving statistics are non-trainable", () => {
    expect(kerasSummary(model1(kerasLayers(), 48))).toContain("Total params: 900,346");
    const layers = kerasLayers();
    const model = layers.sequential();
    model.add(layers.conv2d({ filters: 8, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
    model.add(layers.batchNormalization());
    model.add(layers.averagePooling2d({ poolSize: [2, 2] }));
    model.add(layers.flatten());
    model.add(layers.dense({ units: 10, activation: "softmax" }));
    const text = kerasSummary(model);
    // conv 80, batch norm 4×8 (gamma, beta trainable; moving mean and variance not), dense 13·13·8·10 + 10
    expect(text).toContain(" batch_normalization (BatchNormalization) (None, 26, 26, 8)");
    expect(text).toContain(" average_pooling2d (AveragePooling2D)");
    expect(text).toContain("Total params: 13,642");
    expect(text).toContain("Trainable params: 13,626");
    expect(text).toContain("Non-trainable params: 16");
  });

  it("writes shapes as Keras does", () => {
    expect(kerasShape([null, 26, 26, 32])).toBe("(None, 26, 26, 32)");
    expect(kerasShape([null, 10])).toBe("(None, 10)");
    expect(kerasShape([null])).toBe("(None,)");
  });
});

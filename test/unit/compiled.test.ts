import type { Optimizer, Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { adadelta } from "../../src/engine/adadelta";
import { testFunction, trainFunction } from "../../src/engine/step";
import { metricNamed } from "../../src/engine/losses";
import { buildConvNet } from "../../src/training/models";
import { setProgressOutput, terminalOutput } from "../../src/training/progress";
import { kerasLayers, type KerasSequential } from "../../src/training/sequential";

/** 12 batches of 16 random 12×12 images (the last batch holds 10), with one-hot labels of 10 classes. */
function randomData(seed: number, size = 12) {
  const n = 16 * 11 + 10;
  const x = tf.randomUniform([n, size, size, 1], 0, 1, "float32", seed);
  const y = tf.oneHot(tf.randomUniform([n], 0, 10, "int32", seed + 1), 10).toFloat();
  return { x, y };
}

/** The same model trained twice from the same weights, op by op and as one function: its weights, history and status. */
async function bothWays(make: () => KerasSequential, loss: string, data: { x: Tensor; y: Tensor }, metrics: string[] = [], optimizer = () => adadelta({ learningRate: 1.0 }) as Optimizer) {
  const runs = [];
  for (const runEagerly of [true, false]) {
    const model = make();
    model.compile({ loss, optimizer: optimizer(), metrics: ["accuracy", ...metrics], runEagerly });
    const history = await model.fit(data.x, data.y, { batchSize: 16, epochs: 2, verbose: 0 });
    const steps = trainFunction(model, model.optimizer, ["accuracy", ...metrics].map((name) => metricNamed(name)!), runEagerly);
    runs.push({ weights: model.getWeights().map((w) => Array.from(w.dataSync())), history: history.history, iterations: model.optimizer.iterations, status: steps.status() });
  }
  const [eager, compiled] = runs as [(typeof runs)[0], (typeof runs)[0]];
  return { eager, compiled };
}

function maxDiff(a: number[][], b: number[][]): number {
  let most = 0;
  a.forEach((w, i) => w.forEach((v, k) => (most = Math.max(most, Math.abs(v - b[i]![k]!)))));
  return most;
}

/** A layer that steers by a value the step computed: a TensorFlow function cannot do that. */
class ReadsBack extends tf.layers.Layer {
  static className = "ReadsBack";
  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.mul(x, x.max().dataSync()[0]! > 0 ? 1 : -1);
  }
}

/** Conv, batch normalization, tanh, average pooling, spatial dropout, dense with dropout: most of what a stage knows. */
function edited(seed = 3) {
  return () => {
    const layers = kerasLayers(seed);
    const model = layers.sequential();
    model.add(layers.conv2d({ filters: 6, kernelSize: 3, activation: "relu", inputShape: [12, 12, 1] }));
    model.add(layers.batchNormalization());
    model.add(layers.spatialDropout2d({ rate: 0.25 }));
    model.add(layers.conv2d({ filters: 8, kernelSize: 3, activation: "tanh", padding: "same" }));
    model.add(layers.averagePooling2d({ poolSize: 2 }));
    model.add(layers.flatten());
    model.add(layers.dense({ units: 16, activation: "relu" }));
    model.add(layers.dropout({ rate: 0.5 }));
    model.add(layers.dense({ units: 10, activation: "softmax" }));
    return model;
  };
}

describe("a training step run as one TensorFlow function", () => {
  it("trains the seed's model 2 (dropout) to the very weights the op-by-op step reaches", async () => {
    const data = randomData(1, 28);
    const { eager, compiled } = await bothWays(() => buildConvNet({ seed: 5, dropoutConv: 0.25, dropoutDense: 0.5 }), "categoricalCrossentropy", data);
    // Every step after the first two (which are recorded, eagerly) ran as the function; the partial last batch has its own.
    expect(Object.values(compiled.status)).toEqual([{ compiled: true, refused: null }, { compiled: true, refused: null }]);
    expect(Object.values(eager.status)).toEqual([]);
    expect(maxDiff(eager.weights, compiled.weights)).toBeLessThan(1e-6);
    expect(compiled.history.loss[1]).toBeCloseTo(eager.history.loss[1]!, 6);
    expect(compiled.iterations).toBe(24);
    expect(eager.iterations).toBe(24);
  }, 60_000);

  it("gives the same weights for a student's edit with batch normalization, tanh, average pooling and both dropouts", async () => {
    const data = randomData(2);
    for (const loss of ["categoricalCrossentropy", "meanSquaredError"]) {
      const { eager, compiled } = await bothWays(edited(), loss, data, ["mae"]);
      expect(Object.values(compiled.status).every((s) => s.compiled)).toBe(true);
      expect(maxDiff(eager.weights, compiled.weights)).toBeLessThan(1e-6);
      expect(compiled.history.mae![1]).toBeCloseTo(eager.history.mae![1]!, 6);
    }
  }, 60_000);

  it("runs tfjs's own optimizers' updates in the function too (Adam): same weights, same count of iterations", async () => {
    const { eager, compiled } = await bothWays(edited(8), "categoricalCrossentropy", randomData(6), [], () => tf.train.adam(0.01));
    expect(Object.values(compiled.status).every((s) => s.compiled)).toBe(true);
    expect(maxDiff(eager.weights, compiled.weights)).toBeLessThan(1e-6);
    expect(compiled.iterations).toBe(24);
  }, 60_000);

  it("also runs the step through tfjs's tape (a layer no stage knows) as a function", async () => {
    const make = () => {
      const layers = kerasLayers(4);
      const model = layers.sequential();
      model.add(tf.layers.zeroPadding2d({ padding: 1, inputShape: [12, 12, 1] }));
      model.add(layers.conv2d({ filters: 4, kernelSize: 3, activation: "relu" }));
      model.add(layers.flatten());
      model.add(layers.dense({ units: 10, activation: "softmax" }));
      return model;
    };
    const { eager, compiled } = await bothWays(make, "categoricalCrossentropy", randomData(3));
    expect(Object.values(compiled.status).every((s) => s.compiled)).toBe(true);
    expect(maxDiff(eager.weights, compiled.weights)).toBeLessThan(1e-6);
  }, 60_000);

  it("stays op by op when the step reads what it computed, or makes a value that changes from step to step", async () => {
    let count = 0;
    class Counts extends tf.layers.Layer {
      static className = "Counts";
      override call(inputs: Tensor | Tensor[]): Tensor {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        return tf.add(x, tf.scalar(++count * 1e-3));
      }
    }
    for (const [Custom, why] of [[ReadsBack, "reads a value it computed"], [Counts, "a value JavaScript makes changed between two steps"]] as const) {
      const make = () => {
        const layers = kerasLayers(6);
        const model = layers.sequential();
        model.add(layers.flatten({ inputShape: [12, 12, 1] }));
        model.add(new Custom({}));
        model.add(layers.dense({ units: 10, activation: "softmax" }));
        return model;
      };
      count = 0;
      const { eager, compiled } = await bothWays(make, "categoricalCrossentropy", randomData(4));
      const statuses = Object.values(compiled.status);
      expect(statuses.every((s) => !s.compiled)).toBe(true);
      // the full batches' step was recorded often enough to give up on it, saying why
      expect(statuses[0]!.refused).toContain(why);
      // the layer's JavaScript ran at every step of both fits: nothing replayed a stale value
      if (Custom === Counts) expect(count).toBe(2 * 24);
      else expect(maxDiff(eager.weights, compiled.weights)).toBeLessThan(1e-6);
    }
  }, 60_000);

  it("says once in the fit's output why the step stays op by op, next to the note about slow layers", async () => {
    const layers = kerasLayers(6);
    const model = layers.sequential({ name: "reads_back" });
    model.add(layers.flatten({ inputShape: [12, 12, 1] }));
    model.add(new ReadsBack({ name: "reads_back_layer" }));
    model.add(layers.dense({ units: 10, activation: "softmax" }));
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
    const shown: string[] = [];
    setProgressOutput(() => ({ finished }) => shown.push(...finished));
    try {
      const { x, y } = randomData(5);
      await model.fit(x, y, { batchSize: 16, epochs: 2 });
    } finally {
      setProgressOutput(terminalOutput);
    }
    const notes = [...new Set(shown.filter((l) => l.startsWith("Note:")))];
    expect(notes).toEqual([
      "Note: reads_back_layer (ReadsBack) runs on tfjs-layers' general path, which trains correctly but slower than the fast path the other layers take.",
      "Note: the training step runs op by op, not as one TensorFlow function, because the step reads a value it computed back into JavaScript; it trains correctly, but slower.",
    ]);
  });

  it("evaluates as one function too, to the same loss, accuracy and metrics", async () => {
    const data = randomData(7);
    const model = edited(9)();
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy", "mse"] });
    await model.fit(data.x, data.y, { batchSize: 16, epochs: 1, verbose: 0 });
    model.runEagerly = true;
    const eager = model.evaluate(data.x, data.y, { batchSize: 16 });
    model.runEagerly = false;
    const compiled = model.evaluate(data.x, data.y, { batchSize: 16 });
    // to rounding: where the tuner chose an Eigen kernel for a shape, TensorFlow's graph pass puts oneDNN's in the function
    expect(eager).toHaveLength(3);
    compiled.forEach((value, i) => expect(value).toBeCloseTo(eager[i]!, 6));
    const steps = testFunction(model, [metricNamed("accuracy")!, metricNamed("mse")!], false);
    expect(steps.status()["batch 16, x [12,12,1], y [10]"]).toEqual({ compiled: true, refused: null });
  }, 60_000);

  it("records again after a new compile, and keeps its function across fits otherwise", async () => {
    const data = randomData(5);
    const model = edited(7)();
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
    await model.fit(data.x, data.y, { batchSize: 16, epochs: 1, verbose: 0 });
    const first = trainFunction(model, model.optimizer, [metricNamed("accuracy")!], false);
    await model.fit(data.x, data.y, { batchSize: 16, epochs: 1, verbose: 0 });
    expect(trainFunction(model, model.optimizer, [metricNamed("accuracy")!], false)).toBe(first);
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 0.5 }), metrics: ["accuracy"] });
    await model.fit(data.x, data.y, { batchSize: 16, epochs: 1, verbose: 0 });
    const second = trainFunction(model, model.optimizer, [metricNamed("accuracy")!], false);
    expect(second).not.toBe(first);
    // the full batches' step runs as a function again (the partial one, seen once, is recorded only)
    expect(second.status()["batch 16, x [12,12,1], y [10]"]).toEqual({ compiled: true, refused: null });
  }, 60_000);
});

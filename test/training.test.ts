import type { Tensor } from "@tensorflow/tfjs-node";
import { beforeAll, describe, expect, it } from "vitest";
import { adadelta } from "../src/engine/adadelta";
import { tf } from "../src/core/backend";
import type { MnistData } from "../src/data/mnist";
import { UserError } from "../src/core/errors";
import { CallbackList } from "../src/training/callbacks";
import { buildConvNet } from "../src/training/models";
import { kerasLayers, type KerasSequential } from "../src/training/sequential";
import { fitNetwork, TrainingInterrupted } from "../src/training/training";
import { preparedMnist } from "./mnist";

let data: MnistData;

beforeAll(async () => {
  data = await preparedMnist(2000);
});

function compiled(options: { learningRate?: number; seed?: number; dropout?: boolean; name?: string } = {}): KerasSequential {
  const model = buildConvNet({
    seed: options.seed ?? 1,
    dropoutConv: options.dropout ? 0.25 : 0,
    dropoutDense: options.dropout ? 0.5 : 0,
    name: options.name ?? "training-test",
  });
  model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: options.learningRate ?? 1.0 }), metrics: ["accuracy"] });
  return model;
}

/** Categorical cross-entropy and accuracy the long way, from predicted probabilities. */
function byHand(model: KerasSequential, x: Tensor, y: Tensor) {
  const p = model.predict(x) as Tensor;
  const probs = p.arraySync() as number[][];
  const labels = y.argMax(-1).arraySync() as number[];
  const loss = -labels.reduce((s, label, i) => s + Math.log(probs[i]![label]!), 0) / labels.length;
  const accuracy = labels.filter((label, i) => probs[i]!.indexOf(Math.max(...probs[i]!)) === label).length / labels.length;
  return { loss, accuracy };
}

describe("model.fit", () => {
  it("holds out the last fraction for validation and trains on exactly the rest (Keras's validation_split)", async () => {
    const x = data.xTrain.slice(0, 500);
    const y = data.yTrain.slice(0, 500);
    const model = compiled({ learningRate: 0 }); // no updates: metrics depend only on which examples are used
    const history = await model.fit(x, y, { epochs: 1, batchSize: 64, validationSplit: 0.2, verbose: 0 });
    expect(history.params).toEqual({ epochs: 1, batchSize: 64, steps: 7, samples: 400, validationSamples: 100 });
    const heldOut = byHand(model, x.slice(400, 100), y.slice(400, 100));
    const trained = byHand(model, x.slice(0, 400), y.slice(0, 400));
    expect(history.history.val_loss![0]).toBeCloseTo(heldOut.loss, 4);
    expect(history.history.val_accuracy![0]).toBeCloseTo(heldOut.accuracy, 6);
    expect(history.history.loss[0]).toBeCloseTo(trained.loss, 4);
    expect(history.history.accuracy[0]).toBeCloseTo(trained.accuracy, 6);
  });

  it("records Keras's history names, one value per epoch, plus seconds", async () => {
    const history = await compiled().fit(data.xTrain.slice(0, 300), data.yTrain.slice(0, 300), {
      epochs: 2, batchSize: 128, validationSplit: 0.2, verbose: 0 });
    expect(history.epoch).toEqual([0, 1]);
    expect(Object.keys(history.history).sort()).toEqual(["accuracy", "loss", "seconds", "val_accuracy", "val_loss"]);
    for (const values of Object.values(history.history)) expect(values).toHaveLength(2);
    expect(history.history.seconds.every((s) => s > 0)).toBe(true);
  });

  it("gives the same numbers for the same seed, dropout included", async () => {
    const run = () => compiled({ seed: 5, dropout: true }).fit(data.xTrain.slice(0, 400), data.yTrain.slice(0, 400), {
      epochs: 2, batchSize: 64, validationSplit: 0.2, verbose: 0,
    });
    const first = await run();
    const second = await run();
    expect(second.history.loss).toEqual(first.history.loss);
    expect(second.history.val_accuracy).toEqual(first.history.val_accuracy);
  });

  it("trains on every example with validationSplit 0: no val_ metrics, as in Keras", async () => {
    const model = compiled({ learningRate: 0 });
    const x = data.xTrain.slice(0, 300);
    const y = data.yTrain.slice(0, 300);
    const history = await model.fit(x, y, { epochs: 2, batchSize: 100, validationSplit: 0, verbose: 0 });
    expect(history.params).toEqual({ epochs: 2, batchSize: 100, steps: 3, samples: 300, validationSamples: 0 });
    expect(Object.keys(history.history).sort()).toEqual(["accuracy", "loss", "seconds"]);
    expect(history.history.loss[0]).toBeCloseTo(byHand(model, x, y).loss, 4);
  });

  it("validates on validationData instead of a split, and the model keeps its history as model.history", async () => {
    const model = compiled({ learningRate: 0 });
    const [xVal, yVal] = [data.xTest.slice(0, 100), data.yTest.slice(0, 100)];
    const history = await model.fit(data.xTrain.slice(0, 200), data.yTrain.slice(0, 200), {
      epochs: 1, batchSize: 64, validationSplit: 0.5, validationData: [xVal, yVal], verbose: 0,
    });
    expect(history.params).toMatchObject({ samples: 200, validationSamples: 100 });
    expect(history.history.val_loss![0]).toBeCloseTo(byHand(model, xVal, yVal).loss, 4);
    expect(model.history).toBe(history);
  });

  it("refuses bad arguments with a sentence naming each one, before training", async () => {
    const model = compiled();
    const x = data.xTrain.slice(0, 10);
    const y = data.yTrain.slice(0, 10);
    await expect(model.fit(x, y, { batchSize: 0, epochs: 1.5, validationSplit: 1 })).rejects.toThrow(
      /^model\.fit: batchSize must be a whole number greater than 0, e\.g\. batchSize: 128; got 0\. epochs must be a whole number greater than 0, e\.g\. epochs: 6; got 1\.5\. validationSplit must be a number from 0 \(no validation\) up to, not including, 1/,
    );
    await expect(model.fit(x, y, { validationSplit: 0.95, verbose: 0 })).rejects.toThrow("validationSplit 0.95 leaves no training examples out of 10: use a smaller split or more examples.");
    expect(model.history).toBeUndefined();
  });

  it("stops at a batch boundary when interrupted, keeping finished epochs and a usable model", async () => {
    const controller = new AbortController();
    const model = compiled();
    const watcher = {
      onBatchEnd: (batch: number) => {
        if (model.history!.epoch.length === 1 && batch === 2) controller.abort();
      },
    };
    const done = fitNetwork(model, data.xTrain.slice(0, 640), data.yTrain.slice(0, 640), {
      epochs: 3, batchSize: 64, validationSplit: 0.2, shuffle: true, seed: 1, signal: controller.signal,
      onHistory: (h) => (model.history = h),
    }, new CallbackList([watcher], model));
    const error = await done.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingInterrupted);
    expect((error as Error).message).toBe(
      "Training was interrupted in epoch 2 at step 3/8. model.history keeps the 1 finished epoch and the model the weights it had reached; run the cell again to train all 3 epochs.",
    );
    expect(model.history!.epoch).toEqual([0]);
    expect(model.history!.history.loss).toHaveLength(1);
    const [loss] = model.evaluate(data.xTest.slice(0, 100), data.yTest.slice(0, 100));
    expect(Number.isFinite(loss)).toBe(true);
  });

  it("explains a model that was not compiled, another loss, and mismatched x and y", async () => {
    const model = buildConvNet({ name: "uncompiled" });
    await expect(model.fit(data.xTrain, data.yTrain, { epochs: 1, batchSize: 32, verbose: 0 })).rejects.toThrow(/call model.compile/);
    await expect(compiled().fit(data.xTrain.slice(0, 10), data.yTrain.slice(0, 9), { epochs: 1, batchSize: 32, verbose: 0 })).rejects.toThrow(
      /x holds 10 examples but y holds 9/,
    );
    const mse = buildConvNet({ name: "mse" });
    mse.compile({ loss: "meanSquaredError", optimizer: adadelta(), metrics: ["accuracy"] });
    await expect(mse.fit(data.xTrain.slice(0, 10), data.yTrain.slice(0, 10), { epochs: 1, batchSize: 32, verbose: 0 })).rejects.toThrow(
      /compiled with loss "meanSquaredError": compile it with loss: "categoricalCrossentropy"/,
    );
    // a student's model that ends without the softmax output layer
    const layers = kerasLayers(1);
    const noSoftmax = layers.sequential();
    noSoftmax.add(layers.flatten({ inputShape: [28, 28, 1] }));
    noSoftmax.add(layers.dense({ units: 10, activation: "relu" }));
    noSoftmax.compile({ loss: "categoricalCrossentropy", optimizer: adadelta(), metrics: ["accuracy"] });
    await expect(noSoftmax.fit(data.xTrain.slice(0, 10), data.yTrain.slice(0, 10), { epochs: 1, batchSize: 32, verbose: 0 })).rejects.toThrow(
      /^The model's last layer is dense \(Dense, activation relu\)\. Training and evaluation here need the output layer to be Dense with activation "softmax" .*model\.add\(layers\.dense\(\{ units: 10, activation: "softmax" \}\)\)/,
    );
    await expect(noSoftmax.fit(data.xTrain.slice(0, 10), data.yTrain.slice(0, 10), { epochs: 1, batchSize: 32, verbose: 0 })).rejects.toBeInstanceOf(UserError);
  });

  it("projects constrained weights after every update, as Keras does (maxNorm on a Dense kernel)", async () => {
    const maxValue = 0.05;
    const net = (constrained: boolean) => {
      const layers = kerasLayers(3);
      const model = layers.sequential();
      model.add(layers.conv2d({ filters: 4, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
      model.add(layers.flatten());
      model.add(layers.dense({ units: 16, activation: "relu", ...(constrained ? { kernelConstraint: tf.constraints.maxNorm({ maxValue, axis: 0 }) } : {}) }));
      model.add(layers.dense({ units: 10, activation: "softmax" }));
      model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
      return model;
    };
    const columnNorms = (model: KerasSequential) => tf.tidy(() => (model.layers[2]!.getWeights()[0]!.square().sum(0).sqrt().arraySync() as number[]));
    const [plain, constrained] = [net(false), net(true)];
    const x = data.xTrain.slice(0, 64);
    const y = data.yTrain.slice(0, 64);
    // One full batch: both start from the same weights and take the same gradient.
    for (const model of [plain, constrained]) await model.fit(x, y, { epochs: 1, batchSize: 64, verbose: 0 });
    expect(Math.min(...columnNorms(plain))).toBeGreaterThan(maxValue * 10);
    const projected = tf.tidy(() => tf.constraints.maxNorm({ maxValue, axis: 0 }).apply(plain.layers[2]!.getWeights()[0]!).arraySync() as number[][]);
    const kernel = constrained.layers[2]!.getWeights()[0]!.arraySync() as number[][];
    kernel.forEach((row, i) => row.forEach((w, j) => expect(w).toBeCloseTo(projected[i]![j]!, 6)));
    // The unconstrained weights are the same update in both.
    const convDifference = tf.tidy(() => constrained.layers[0]!.getWeights()[0]!.sub(plain.layers[0]!.getWeights()[0]!).abs().max().dataSync()[0]!);
    expect(convDifference).toBeLessThan(1e-6);
    await constrained.fit(data.xTrain.slice(0, 256), data.yTrain.slice(0, 256), { epochs: 2, batchSize: 64, verbose: 0 });
    expect(Math.max(...columnNorms(constrained))).toBeLessThanOrEqual(maxValue * (1 + 1e-5));
    plain.dispose();
    constrained.dispose();
  });

  it("does not leak tensors across training runs", async () => {
    const model = compiled();
    const x = data.xTrain.slice(0, 200);
    const y = data.yTrain.slice(0, 200);
    await model.fit(x, y, { epochs: 1, batchSize: 64, validationSplit: 0.2, verbose: 0 });
    const before = tf.memory().numTensors;
    await model.fit(x, y, { epochs: 2, batchSize: 64, validationSplit: 0.2, verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("model.evaluate", () => {
  it("gives [loss, accuracy] as numbers, matching the cross-entropy and accuracy computed by hand", () => {
    const model = compiled();
    const x = data.xTest.slice(0, 300);
    const y = data.yTest.slice(0, 300);
    const [loss, accuracy] = model.evaluate(x, y);
    const hand = byHand(model, x, y);
    expect(loss).toBeCloseTo(hand.loss, 4);
    expect(accuracy).toBeCloseTo(hand.accuracy, 6);
    // the batch size only changes the order of the sums
    expect(model.evaluate(x, y, { batchSize: 32 })[0]).toBeCloseTo(loss, 5);
  });
});

describe("training model 1 on the native backend", () => {
  it("reaches accuracy well above chance after one epoch on 2,000 examples", async () => {
    expect(tf.getBackend()).toBe("tensorflow");
    const model = compiled({ seed: 42, name: "integration" });
    const history = await model.fit(data.xTrain, data.yTrain, { epochs: 1, batchSize: 128, validationSplit: 0.2, verbose: 0 });
    const [loss, accuracy] = model.evaluate(data.xTest, data.yTest);
    // chance is 0.1; the seed's Keras run reaches 0.98 on all 60,000 examples
    expect(history.history.val_accuracy![0]).toBeGreaterThan(0.45);
    expect(accuracy).toBeGreaterThan(0.45);
    expect(loss).toBeLessThan(2.0);
  });
});

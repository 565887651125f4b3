import type { Tensor } from "@tensorflow/tfjs-node";
import { beforeAll, describe, expect, it } from "vitest";
import { adadelta } from "../src/engine/adadelta";
import { tf } from "../src/core/backend";
import type { MnistData } from "../src/data/mnist";
import { UserError } from "../src/core/errors";
import { CallbackList } from "../src/training/callbacks";
import { buildConvNet } from "../src/training/models";
import { setProgressOutput, terminalOutput } from "../src/training/progress";
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
    expect(history.params).toEqual({ epochs: 1, batchSize: 64, steps: 7, samples: 400, validationSamples: 100, metrics: ["loss", "accuracy", "val_loss", "val_accuracy"] });
    const heldOut = byHand(model, x.slice(400, 100), y.slice(400, 100));
    const trained = byHand(model, x.slice(0, 400), y.slice(0, 400));
    expect(history.history.val_loss![0]).toBeCloseTo(heldOut.loss, 4);
    expect(history.history.val_accuracy![0]).toBeCloseTo(heldOut.accuracy, 6);
    expect(history.history.loss[0]).toBeCloseTo(trained.loss, 4);
    expect(history.history.accuracy![0]).toBeCloseTo(trained.accuracy, 6);
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
    expect(history.params).toEqual({ epochs: 2, batchSize: 100, steps: 3, samples: 300, validationSamples: 0, metrics: ["loss", "accuracy"] });
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

  it("explains, before training, a model that was not compiled, a loss it does not compute, and data that does not fit the model", async () => {
    const model = buildConvNet({ name: "uncompiled" });
    const [x, y] = [data.xTrain.slice(0, 10), data.yTrain.slice(0, 10)];
    const fit = (m: KerasSequential, xs: Tensor, ys: Tensor) => m.fit(xs, ys, { epochs: 1, batchSize: 32, verbose: 0 });
    await expect(fit(model, x, y)).rejects.toThrow(/call model.compile/);
    await expect(fit(compiled(), x, data.yTrain.slice(0, 9))).rejects.toThrow(/x holds 10 examples but y holds 9/);
    expect(() => buildConvNet({ name: "hinge" }).compile({ loss: "hinge", optimizer: adadelta() })).toThrow(
      /^model\.compile: loss "hinge" is not one training here computes\. Use one of "categoricalCrossentropy" \(one-hot labels\), "sparseCategoricalCrossentropy"/,
    );
    // the output layer against the labels: 5 units, 10 classes
    const layers = kerasLayers(1);
    const five = layers.sequential({ name: "five" });
    five.add(layers.flatten({ inputShape: [28, 28, 1] }));
    five.add(layers.dense({ units: 5, activation: "softmax" }));
    five.compile({ loss: "categoricalCrossentropy", optimizer: adadelta() });
    await expect(fit(five, x, y)).rejects.toThrow(
      /^model\.fit: the output layer dense gives \[5\] per example, but the labels y are \[10\] per example \(10 classes\)\. Give the output layer units: 10\.$/,
    );
    expect(() => five.evaluate(x, y)).toThrow(/^model\.evaluate: the output layer dense gives \[5\]/);
    // the data against the first layer: flat vectors for a model of images
    await expect(fit(compiled(), tf.reshape(x, [10, 784]), y)).rejects.toThrow(
      /^model\.fit: the first layer, conv2d, takes examples of shape \[28, 28, 1\], but x holds examples of shape \[784\]\. Give the data that shape \(for MNIST images, data\.reshape\(\[28, 28, 1\]\)\)/,
    );
    // class numbers against one-hot: each loss names the other way
    const sparse = buildConvNet({ name: "sparse" });
    sparse.compile({ loss: "sparse_categorical_crossentropy", optimizer: adadelta() });
    await expect(fit(sparse, x, y)).rejects.toThrow(/sparseCategoricalCrossentropy takes one class number per example, but y holds labels of shape \[10\] \(one-hot, it seems\)/);
    await expect(fit(sparse, x, tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 12]))).rejects.toThrow(/labels go up to class 12, but the output layer dense_1 has 10 units, one per class\. Give it units: 13/);
    await expect(fit(compiled(), x, tf.argMax(y, -1))).rejects.toThrow(/y holds one class number per example.*data\.toCategorical\(10\)\), or compile with loss: "sparseCategoricalCrossentropy"/);
    await expect(fit(five, x, y)).rejects.toBeInstanceOf(UserError);
  });

  it("trains with each of Keras's losses; evaluate gives each loss as Keras computes it from the predictions", async () => {
    const [x, y] = [data.xTrain.slice(0, 1000), data.yTrain.slice(0, 1000)];
    const classes = tf.argMax(y, -1);
    const mean = (rows: number[]) => rows.reduce((a, b) => a + b, 0) / rows.length;
    const clip = (p: number) => Math.min(Math.max(p, 1e-7), 1 - 1e-7);
    // [loss, labels, the loss by hand, accuracy it reaches at least (squared error on a softmax learns slowest, as in Keras)]
    const cases: Array<[string, Tensor, (p: number[], label: number) => number, number]> = [
      ["sparseCategoricalCrossentropy", classes, (p, label) => -Math.log(p[label]!), 0.7],
      ["meanSquaredError", y, (p, label) => mean(p.map((v, k) => (v - (k === label ? 1 : 0)) ** 2)), 0.3],
      ["binaryCrossentropy", y, (p, label) => -mean(p.map((v, k) => (k === label ? Math.log(clip(v)) : Math.log(1 - clip(v))))), 0.5],
    ];
    for (const [loss, labels, byHandLoss, least] of cases) {
      const model = buildConvNet({ seed: 4, name: loss });
      model.compile({ loss, optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
      const history = await model.fit(x, labels, { epochs: 2, batchSize: 64, verbose: 0 });
      expect(history.history.loss[1]!, loss).toBeLessThan(history.history.loss[0]!);
      const [testLoss, accuracy] = model.evaluate(data.xTest.slice(0, 300), loss === "sparseCategoricalCrossentropy" ? tf.argMax(data.yTest.slice(0, 300), -1) : data.yTest.slice(0, 300));
      expect(accuracy, loss).toBeGreaterThan(least);
      const probabilities = (model.predict(data.xTest.slice(0, 300)) as Tensor).arraySync() as number[][];
      const truth = tf.argMax(data.yTest.slice(0, 300), -1).arraySync() as number[];
      expect(testLoss, loss).toBeCloseTo(mean(probabilities.map((p, i) => byHandLoss(p, truth[i]!))), 4);
    }
  });

  it("logs each metric given to compile (accuracy one among them) under its name, with its val_ twin, and evaluate returns them after the loss in compile's order, as Keras does", async () => {
    const model = buildConvNet({ seed: 6, name: "with-metrics" });
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["mse", "accuracy", "mae", "acc"] });
    const shown: string[][] = [];
    setProgressOutput(() => ({ finished }) => shown.push(finished));
    let history;
    try {
      history = await model.fit(data.xTrain.slice(0, 512), data.yTrain.slice(0, 512), { epochs: 1, batchSize: 128, validationSplit: 0.25 });
    } finally {
      setProgressOutput(terminalOutput);
    }
    expect(Object.keys(history.history).sort()).toEqual(["acc", "accuracy", "loss", "mae", "mse", "seconds", "val_acc", "val_accuracy", "val_loss", "val_mae", "val_mse"]);
    expect(history.history.acc).toEqual(history.history.accuracy);
    // Keras's progress line: training figures in compile's order, then the val_ ones
    expect(shown.flat().at(-1)).toMatch(/ - loss: [\d.]+ - mse: [\d.]+ - accuracy: [\d.]+ - mae: [\d.]+ - acc: [\d.]+ - val_loss: [\d.]+ - val_mse: [\d.]+ - val_accuracy: [\d.]+ - val_mae: [\d.]+ - val_acc: [\d.]+$/);
    expect(history.params.metrics).toEqual(["loss", "mse", "accuracy", "mae", "acc", "val_loss", "val_mse", "val_accuracy", "val_mae", "val_acc"]);
    const [x, y] = [data.xTest.slice(0, 300), data.yTest.slice(0, 300)];
    const [loss, mse, accuracy, mae, acc] = model.evaluate(x, y);
    const p = (model.predict(x) as Tensor).arraySync() as number[][];
    const labels = y.arraySync() as number[][];
    const mean = (f: (row: number[], i: number) => number) => p.reduce((sum, row, i) => sum + f(row, i), 0) / p.length;
    expect(mse).toBeCloseTo(mean((row, i) => row.reduce((s, v, k) => s + (v - labels[i]![k]!) ** 2, 0) / row.length), 5);
    expect(mae).toBeCloseTo(mean((row, i) => row.reduce((s, v, k) => s + Math.abs(v - labels[i]![k]!), 0) / row.length), 5);
    expect(acc).toBe(accuracy);
    expect(accuracy).toBeCloseTo(byHand(model, x, y).accuracy, 6);
    expect(loss).toBeCloseTo(byHand(model, x, y).loss, 4);
    // compiled without metrics: the loss alone, in the logs, the history and evaluate's list
    const bare = buildConvNet({ seed: 6, name: "loss-only" });
    bare.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }) });
    const lossOnly = await bare.fit(data.xTrain.slice(0, 256), data.yTrain.slice(0, 256), { epochs: 1, batchSize: 128, validationSplit: 0.5, verbose: 0 });
    expect(Object.keys(lossOnly.history).sort()).toEqual(["loss", "seconds", "val_loss"]);
    expect(bare.evaluate(x, y)).toEqual([expect.closeTo(byHand(bare, x, y).loss, 4)]);
    expect(() => buildConvNet({ name: "auc" }).compile({ loss: "categoricalCrossentropy", optimizer: adadelta(), metrics: ["AUC"] })).toThrow(
      /^model\.compile: metric "AUC" is not one computed here\. Use any of "accuracy", "mse", "mae"/,
    );
  });

  it("says once, in the fit's output, which layers run on tfjs-layers' slower path", async () => {
    const layers = kerasLayers(2);
    const model = layers.sequential({ name: "with-padding" });
    model.add(layers.conv2d({ filters: 4, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1] }));
    model.add(tf.layers.zeroPadding2d({ padding: 1, name: "zero_padding2d" }));
    model.add(layers.flatten());
    model.add(layers.dense({ units: 10, activation: "softmax" }));
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta(), metrics: ["accuracy"] });
    const shown: string[][] = [];
    setProgressOutput(() => ({ finished }) => shown.push(finished));
    try {
      await model.fit(data.xTrain.slice(0, 256), data.yTrain.slice(0, 256), { epochs: 2, batchSize: 128 });
      await compiled({ name: "seed-model" }).fit(data.xTrain.slice(0, 128), data.yTrain.slice(0, 128), { epochs: 1, batchSize: 128 });
    } finally {
      setProgressOutput(terminalOutput);
    }
    const lines = shown.flat();
    const notices = [...new Set(lines.filter((l) => l.startsWith("Note:")))];
    expect(notices).toEqual(["Note: zero_padding2d (ZeroPadding2D) runs on tfjs-layers' general path, which trains correctly but slower than the fast path the other layers take."]);
    // first in the output, before the epochs; the seed's model, all on the fast path, gets none
    expect(shown.at(0)).toEqual([notices[0]]);
    expect(shown.filter((finished) => finished[0] === "Epoch 1/1").every((finished) => !finished.some((l) => l.startsWith("Note:")))).toBe(true);
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

import fs from "node:fs";
import path from "node:path";
import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { adadelta } from "../../src/engine/adadelta";
import { earlyStopping, modelCheckpoint, type Logs } from "../../src/training/callbacks";
import { kerasLayers, type KerasSequential } from "../../src/training/sequential";
import { tempDir } from "../helpers";

/** Random images with random labels: a small net memorises the training part, so its validation loss soon rises. */
function overfitting(): { x: Tensor; y: Tensor; model: KerasSequential } {
  const x = tf.randomUniform([240, 28, 28, 1], 0, 1, "float32", 7);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 240 }, (_, i) => (i * 7 + (i >> 3)) % 10), "int32"), 10);
  const layers = kerasLayers(11);
  const model = layers.sequential();
  model.add(layers.flatten({ inputShape: [28, 28, 1] }));
  model.add(layers.dense({ units: 64, activation: "relu" }));
  model.add(layers.dense({ units: 10, activation: "softmax" }));
  model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
  return { x, y, model };
}

const weights = (model: KerasSequential) => model.getWeights().map((w) => Array.from(w.dataSync()));

/** An inline callback that keeps a copy of the weights after every epoch, before any callback after it changes them. */
function weightsPerEpoch(model: KerasSequential) {
  const byEpoch: number[][][] = [];
  return { byEpoch, callback: { onEpochEnd: () => void byEpoch.push(weights(model)) } };
}

const argMin = (values: number[]) => values.indexOf(Math.min(...values));

describe("earlyStopping", () => {
  it("stops when val_loss stops improving and puts back the best epoch's weights", async () => {
    const { x, y, model } = overfitting();
    const recorder = weightsPerEpoch(model);
    const stopper = earlyStopping({ monitor: "val_loss", patience: 1, restoreBestWeights: true });
    const history = await model.fit(x, y, { batchSize: 32, epochs: 30, validationSplit: 0.25, verbose: 0, callbacks: [recorder.callback, stopper] });
    const valLoss = history.history.val_loss!;
    expect(history.epoch.length).toBeLessThan(30); // it stopped early
    expect(stopper.stoppedEpoch).toBe(history.epoch.length - 1);
    expect(stopper.bestEpoch).toBe(argMin(valLoss));
    // patience 1: the epoch after the best did not improve, and training stopped there
    expect(history.epoch.length - 1).toBe(stopper.bestEpoch + 1);
    expect(valLoss.at(-1)!).toBeGreaterThanOrEqual(valLoss[stopper.bestEpoch]!);
    expect(weights(model)).toEqual(recorder.byEpoch[stopper.bestEpoch]);
    expect(weights(model)).not.toEqual(recorder.byEpoch.at(-1));
  });

  it("restores the best weights also when training runs to its last epoch", async () => {
    const { x, y, model } = overfitting();
    const recorder = weightsPerEpoch(model);
    const stopper = earlyStopping({ monitor: "val_loss", patience: 100, restoreBestWeights: true });
    const history = await model.fit(x, y, { batchSize: 32, epochs: 6, validationSplit: 0.25, verbose: 0, callbacks: [recorder.callback, stopper] });
    expect(history.epoch).toHaveLength(6);
    expect(stopper.stoppedEpoch).toBe(-1);
    expect(weights(model)).toEqual(recorder.byEpoch[argMin(history.history.val_loss!)]);
  });

  it("refuses to watch a val_ metric when there is no validation data, and names bad arguments", async () => {
    const { x, y, model } = overfitting();
    await expect(model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [earlyStopping({ monitor: "val_loss" })] })).rejects.toThrow(
      'earlyStopping monitors "val_loss", but this fit has no validation data (validationSplit 0): give validationSplit (e.g. 0.2) or validationData, or monitor "loss".',
    );
    expect(model.history).toBeUndefined(); // refused before training began
    await expect(model.fit(x, y, { epochs: 1, verbose: 0, callbacks: [earlyStopping({ monitor: "val_acc" })], validationSplit: 0.5 })).rejects.toThrow(
      'earlyStopping monitors "val_acc", which the logs do not have; they have loss, accuracy, val_loss, val_accuracy.',
    );
    expect(() => earlyStopping({ patience: -1 })).toThrow("earlyStopping: patience must be a whole number ≥ 0, got -1.");
  });
});

describe("modelCheckpoint", () => {
  it("with saveBestOnly, saves after the epochs that improve val_loss and only those, the last save holding the best weights", async () => {
    const { x, y, model } = overfitting();
    const dir = path.join(tempDir("checkpoint"), "checkpoints", "model_1");
    const checkpoint = modelCheckpoint({ filepath: dir, saveBestOnly: true });
    const recorder = weightsPerEpoch(model);
    const onDisk: Array<number | null> = [];
    const watcher = { onEpochEnd: () => void onDisk.push(fs.existsSync(path.join(dir, "model.json")) ? fs.statSync(path.join(dir, "model.json")).mtimeMs : null) };
    const history = await model.fit(x, y, { batchSize: 32, epochs: 8, validationSplit: 0.25, verbose: 0, callbacks: [recorder.callback, checkpoint, watcher] });
    const valLoss = history.history.val_loss!;
    const improving = valLoss.map((_, i) => i).filter((i) => valLoss.slice(0, i).every((earlier) => valLoss[i]! < earlier));
    expect(improving.length).toBeLessThan(8); // the run has epochs that did not improve
    expect(checkpoint.saved).toEqual(improving);
    // the file changed exactly after the improving epochs
    const changedAfter = onDisk.map((_, i) => i).filter((i) => onDisk[i] !== null && onDisk[i] !== (i > 0 ? onDisk[i - 1] : null));
    expect(changedAfter).toEqual(improving);
    const saved = await tf.loadLayersModel(`file://${path.join(dir, "model.json")}`);
    expect(saved.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(recorder.byEpoch[argMin(valLoss)]);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(["model_1"]); // written atomically: no staging folder left
    saved.dispose();
  });

  it("without saveBestOnly, saves after every epoch, into a folder per epoch with {epoch}", async () => {
    const { x, y, model } = overfitting();
    const root = tempDir("checkpoint-each");
    const checkpoint = modelCheckpoint({ filepath: path.join(root, "epoch_{epoch}") });
    await model.fit(x, y, { batchSize: 64, epochs: 3, verbose: 0, callbacks: [checkpoint] });
    expect(checkpoint.saved).toEqual([0, 1, 2]);
    expect(fs.readdirSync(root).sort()).toEqual(["epoch_1", "epoch_2", "epoch_3"]);
  });
});

describe("a callback written inline", () => {
  it("receives Keras's hooks in order with Keras's logs", async () => {
    const { x, y, model } = overfitting();
    const calls: string[] = [];
    const epochLogs: Logs[] = [];
    const batchLogs: Logs[] = [];
    const history = await model.fit(x, y, {
      batchSize: 60, epochs: 2, validationSplit: 0.25, verbose: 0,
      callbacks: [{
        onTrainBegin: async () => void calls.push("trainBegin"),
        onEpochBegin: async (epoch) => void calls.push(`epochBegin ${epoch}`),
        onBatchEnd: async (batch, logs) => {
          calls.push(`batchEnd ${batch}`);
          batchLogs.push({ ...logs });
        },
        onEpochEnd: async (epoch, logs) => {
          calls.push(`epochEnd ${epoch}`);
          epochLogs.push({ ...logs });
        },
        onTrainEnd: async () => void calls.push("trainEnd"),
      }],
    });
    expect(calls).toEqual([
      "trainBegin",
      "epochBegin 0", "batchEnd 0", "batchEnd 1", "batchEnd 2", "epochEnd 0",
      "epochBegin 1", "batchEnd 0", "batchEnd 1", "batchEnd 2", "epochEnd 1",
      "trainEnd",
    ]);
    expect(epochLogs).toEqual([0, 1].map((e) => ({
      loss: history.history.loss[e], accuracy: history.history.accuracy![e],
      val_loss: history.history.val_loss![e], val_accuracy: history.history.val_accuracy![e],
    })));
    expect(Object.keys(batchLogs[0]!)).toEqual(["batch", "size", "loss", "accuracy"]);
    // batch logs are running means over the epoch, so the last one of an epoch is the epoch's figure
    expect(batchLogs[2]!.loss).toBeCloseTo(history.history.loss[0]!, 10);
    expect(batchLogs[2]!.size).toBe(60);
  });

  it("stops training by setting model.stopTraining, as tfjs's own callbacks do", async () => {
    const { x, y, model } = overfitting();
    const history = await model.fit(x, y, {
      batchSize: 60, epochs: 5, verbose: 0,
      callbacks: [tf.callbacks.earlyStopping({ monitor: "loss", patience: 0, minDelta: 100 })],
    });
    // tfjs's EarlyStopping: no epoch improves by 100, so it stops after its first chance
    expect(history.epoch).toEqual([0, 1]);
  });
});

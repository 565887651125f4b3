/**
 * The tutorial way: tf.sequential() with tf.layers.*, through the package's `tf`, keeps tfjs's API (History with
 * "acc", evaluate's scalars, tfjs's log names for callbacks) and trains on the engine as one TensorFlow function.
 */
import type { LayersModel, Scalar, Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/core/errors";
import { metricNamed } from "../../src/engine/losses";
import { trainFunction } from "../../src/engine/step";
import { setProgressOutput, terminalOutput } from "../../src/training/progress";
import { tf, TfjsSequential } from "../../src/index";

/** Images with a bright square whose column says the class (4 classes of 10): a few epochs learn it. */
function squares(count: number, seed: number) {
  const labels = Array.from({ length: count }, (_, i) => i % 4);
  const x = tf.tidy(() =>
    tf.add(
      tf.stack(labels.map((l) => tf.pad(tf.ones([8, 6, 1]), [[10, 10], [2 + 6 * l, 20 - 6 * l], [0, 0]]))),
      tf.randomUniform([count, 28, 28, 1], 0, 0.2, "float32", seed),
    ),
  ) as Tensor;
  return { x, y: tf.oneHot(tf.tensor1d(labels, "int32"), 10).toFloat() as Tensor };
}

/** The network of the "tutorial way": model 2 of the seed, written with tf.layers. */
function tutorialModel(dropoutSeed?: number) {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1] }));
  model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: "relu" }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.dropout({ rate: 0.25, seed: dropoutSeed }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 32, activation: "relu" }));
  model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  return model;
}

async function shownWhile(f: () => Promise<unknown>): Promise<string[]> {
  const shown: string[] = [];
  setProgressOutput(() => ({ finished }) => shown.push(...finished));
  try {
    await f();
  } finally {
    setProgressOutput(terminalOutput);
  }
  return shown;
}

describe("tf.sequential() from the package's tf", () => {
  const data = squares(160, 1);
  const validation = squares(40, 2);

  it("is a tfjs Sequential that trains on the engine as one function, with tfjs's History, logs and evaluate", async () => {
    const model = tutorialModel();
    expect(model).toBeInstanceOf(TfjsSequential);
    expect(model).toBeInstanceOf(tf.Sequential);
    model.compile({ optimizer: "adadelta", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const seen: string[][] = [];
    let history: Awaited<ReturnType<LayersModel["fit"]>> | undefined;
    const shown = await shownWhile(async () => {
      history = await model.fit(data.x, data.y, {
        batchSize: 32,
        epochs: 4,
        validationData: [validation.x, validation.y],
        callbacks: { onEpochEnd: async (_, logs) => void seen.push(Object.keys(logs ?? {}).sort()) },
      });
    });
    expect(history).toBeInstanceOf(tf.History);
    expect(Object.keys(history!.history).sort()).toEqual(["acc", "loss", "val_acc", "val_loss"]);
    expect(history!.epoch).toEqual([0, 1, 2, 3]);
    expect(seen).toEqual(Array(4).fill(["acc", "loss", "val_acc", "val_loss"]));
    const status = Object.values(trainFunction(model, model.optimizer, [metricNamed("acc")!], false).status());
    expect(status).toEqual([{ compiled: true, refused: null }]);
    // no layer left to tfjs-layers' path; the unseeded dropout said so
    expect([...new Set(shown.filter((l) => l.startsWith("Note:")))]).toEqual([
      `Note: ${model.layers[3]!.name} (Dropout) has no seed, so its dropout masks differ from run to run; for repeatable runs give each a seed, e.g. tf.layers.dropout({ rate: 0.25, seed: 1 }), or use kerasLayers(seed).dropout.`,
    ]);
    const evaluated = model.evaluate(validation.x, validation.y) as Scalar[];
    expect(evaluated).toHaveLength(2);
    const [loss, accuracy] = evaluated.map((s) => s.dataSync()[0]!);
    expect(loss).toBeCloseTo(history!.history.val_loss!.at(-1) as number, 5);
    expect(accuracy).toBeCloseTo(history!.history.val_acc!.at(-1) as number, 5);
  });

  it("learns with tf.train's optimizers", async () => {
    for (const optimizer of [tf.train.adam(0.01), tf.train.sgd(0.2), tf.train.rmsprop(0.005)]) {
      const model = tutorialModel(7);
      model.compile({ optimizer, loss: "categoricalCrossentropy", metrics: ["acc"] });
      const history = await model.fit(data.x, data.y, { batchSize: 32, epochs: 5, verbose: 0 });
      const loss = history.history.loss as number[];
      expect(loss.at(-1)!, optimizer.getClassName()).toBeLessThan(loss[0]! * 0.7);
      expect(Object.values(trainFunction(model, model.optimizer, [metricNamed("acc")!], false).status())).toEqual([{ compiled: true, refused: null }]);
    }
  });

  it("takes the same steps as tfjs-layers' own loop, from the same weights (plain SGD, no shuffling)", async () => {
    const ours = tutorialModel();
    const theirs = tutorialModel();
    // the same fixed weights for both, Glorot-sized
    const start = ours.getWeights().map((w, i) => tf.randomUniform(w.shape, -0.15, 0.15, "float32", 100 + i));
    ours.setWeights(start);
    theirs.setWeights(start);
    // dropout at rate 0 is the identity in both loops (the engine leaves it out)
    const noDropout = (m: LayersModel) => ((m.layers[3] as unknown as { rate: number }).rate = 0);
    noDropout(ours);
    noDropout(theirs);
    for (const m of [ours, theirs]) m.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
    await ours.fit(data.x, data.y, { batchSize: 32, epochs: 2, shuffle: false, verbose: 0 });
    await tf.Sequential.prototype.fit.call(theirs, data.x, data.y, { batchSize: 32, epochs: 2, shuffle: false, verbose: 0 });
    const a = ours.getWeights().map((w) => w.dataSync());
    const b = theirs.getWeights().map((w) => w.dataSync());
    let most = 0;
    a.forEach((w, i) => w.forEach((v, k) => (most = Math.max(most, Math.abs(v - b[i]![k]!)))));
    expect(most, `largest weight difference ${most}`).toBeLessThan(1e-4);
  });

  it("refuses what the engine does not take, naming it and the way out", async () => {
    const model = tutorialModel(1);
    model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
    const fit = () => model.fit(data.x, data.y, { classWeight: { 0: 2 }, verbose: 0 });
    await expect(fit()).rejects.toThrow(UserError);
    await expect(fit()).rejects.toThrow(/classWeight \(.*\).*tf\.Sequential\.prototype\.fit\.call\(model, x, y, args\)/);
  });
});

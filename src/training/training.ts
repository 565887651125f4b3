/**
 * Training and evaluation with Keras's semantics: categorical cross-entropy
 * computed from the logits under the final softmax (as Keras does on
 * TensorFlow), accuracy as argmax agreement, `validationSplit` holding out
 * the *last* fraction of the data, the rest reshuffled every epoch, and
 * metrics averaged over samples. Progress is reported as a stream of typed
 * events; the caller decides what to make of them (progress.ts renders text).
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { LayersModel, Optimizer, Tensor } from "@tensorflow/tfjs-node";
import seedrandom from "seedrandom";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import { applyConstraints, evaluationTotals, trainingStep } from "../model/step";

export interface Metrics {
  loss: number;
  accuracy: number;
}

export interface EpochLogs extends Metrics {
  val_loss?: number;
  val_accuracy?: number;
  /** Wall time of the epoch, validation included. */
  seconds: number;
}

export interface TrainingParams {
  epochs: number;
  batchSize: number;
  /** Batches per epoch. */
  steps: number;
  samples: number;
  validationSamples: number;
}

/** Keras's `History`: `history.history.accuracy[e]` is epoch e's training accuracy. */
export interface History {
  epoch: number[];
  history: {
    loss: number[];
    accuracy: number[];
    val_loss: number[];
    val_accuracy: number[];
    seconds: number[];
  };
  params: TrainingParams;
  /** Set when training was stopped before its last epoch; `history` holds the epochs that finished. */
  stopped?: { epoch: number; step: number };
}

/**
 * What training reports, in order: trainBegin; per epoch, epochBegin, one
 * batchEnd per batch (running means over the epoch so far, and its elapsed
 * seconds) and epochEnd; stopped if it was aborted; trainEnd last, always.
 */
export type TrainingEvent =
  | { type: "trainBegin"; params: TrainingParams }
  | { type: "epochBegin"; epoch: number; params: TrainingParams }
  | { type: "batchEnd"; step: number; logs: Metrics; seconds: number }
  | { type: "epochEnd"; epoch: number; logs: EpochLogs }
  | { type: "stopped"; epoch: number; step: number; history: History }
  | { type: "trainEnd"; history: History };

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** Fraction held out for validation, taken from the end like Keras; 0 for none. */
  validationSplit?: number;
  /** Seeds the shuffling; with a seeded model, runs repeat exactly. */
  seed?: number;
  onEvent?: (event: TrainingEvent) => void;
  /** Aborting stops training at the next batch boundary, keeping finished epochs. */
  signal?: AbortSignal;
}

/** A batch's [loss sum, correct count] as numbers; the tensors are freed. */
function readTotals(totals: Tensor[]): [number, number] {
  const values: [number, number] = [totals[0]!.dataSync()[0]!, totals[1]!.dataSync()[0]!];
  tf.dispose(totals);
  return values;
}

/** Mean loss and accuracy over `x`, evaluated in batches (Keras's `model.evaluate`). */
export function evaluate(model: LayersModel, x: Tensor, y: Tensor, batchSize = 128): Metrics {
  const n = x.shape[0] ?? 0;
  if (n === 0) throw new UserError("evaluate: no examples to evaluate.");
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const totals = tf.tidy(() => {
      const t = evaluationTotals(model, x.slice(start, size), y.slice(start, size));
      return [t.lossSum, t.correct];
    });
    const [batchLoss, batchCorrect] = readTotals(totals);
    loss += batchLoss;
    correct += batchCorrect;
  }
  return { loss: loss / n, accuracy: correct / n };
}

function shuffled(count: number, random: () => number): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

const histories = new WeakMap<LayersModel, History>();

/** The history of the model's latest training run, kept up to date epoch by epoch (so also after an interrupt). */
export function historyOf(model: LayersModel): History | undefined {
  return histories.get(model);
}

/**
 * `model.fit(x, y, {batchSize, epochs, validationSplit})` as Keras runs it,
 * with the optimizer given to `model.compile`. Yields to the event loop
 * between batches so progress can be shown and an abort can be noticed.
 */
export async function train(model: LayersModel, x: Tensor, y: Tensor, options: TrainOptions): Promise<History> {
  const { epochs, batchSize, validationSplit = 0, onEvent = () => undefined, signal } = options;
  const optimizer = model.optimizer as Optimizer | undefined;
  if (optimizer === undefined) {
    throw new UserError("The model has no optimizer yet: call model.compile({optimizer, loss, metrics}) before training.");
  }
  // The loss is computed here (from the logits, as Keras does); say so rather than silently ignore another choice.
  if (model.loss !== "categoricalCrossentropy") {
    throw new UserError(`Training here uses categorical cross-entropy, but the model was compiled with loss ${JSON.stringify(model.loss)}: compile it with loss: "categoricalCrossentropy".`);
  }
  const n = x.shape[0] ?? 0;
  if (y.shape[0] !== n) throw new UserError(`x holds ${n} examples but y holds ${y.shape[0]}; they must match.`);
  const trainCount = Math.floor(n * (1 - validationSplit));
  const validationCount = n - trainCount;
  if (trainCount === 0) throw new UserError(`validationSplit ${validationSplit} leaves no training examples out of ${n}.`);
  const params: TrainingParams = {
    epochs,
    batchSize,
    steps: Math.ceil(trainCount / batchSize),
    samples: trainCount,
    validationSamples: validationCount,
  };
  const history: History = {
    epoch: [],
    history: { loss: [], accuracy: [], val_loss: [], val_accuracy: [], seconds: [] },
    params,
  };
  histories.set(model, history);
  const random = seedrandom(String(options.seed ?? Math.random()));
  const [xVal, yVal] = validationCount > 0 ? [x.slice(trainCount), y.slice(trainCount)] : [null, null];

  try {
    onEvent({ type: "trainBegin", params });
    for (let epoch = 0; epoch < epochs; epoch++) {
      onEvent({ type: "epochBegin", epoch, params });
      const started = performance.now();
      const order = shuffled(trainCount, random);
      let seen = 0;
      let lossSum = 0;
      let correct = 0;
      for (let step = 0; step < params.steps; step++) {
        if (signal?.aborted) {
          history.stopped = { epoch, step };
          onEvent({ type: "stopped", epoch, step, history });
          return history;
        }
        const indices = order.subarray(step * batchSize, Math.min((step + 1) * batchSize, trainCount));
        const totals = tf.tidy(() => {
          const index = tf.tensor1d(indices, "int32");
          const xb = tf.gather(x, index);
          const yb = tf.gather(y, index);
          const result = trainingStep(model, xb, yb);
          optimizer.applyGradients(result.gradients);
          applyConstraints(model);
          return [result.lossSum, result.correct];
        });
        const [batchLoss, batchCorrect] = readTotals(totals);
        lossSum += batchLoss;
        correct += batchCorrect;
        seen += indices.length;
        onEvent({ type: "batchEnd", step, logs: { loss: lossSum / seen, accuracy: correct / seen }, seconds: (performance.now() - started) / 1000 });
        await nextTurn();
      }
      const logs: EpochLogs = { loss: lossSum / seen, accuracy: correct / seen, seconds: 0 };
      if (xVal !== null && yVal !== null) {
        const validation = evaluate(model, xVal, yVal, batchSize);
        logs.val_loss = validation.loss;
        logs.val_accuracy = validation.accuracy;
      }
      logs.seconds = (performance.now() - started) / 1000;
      history.epoch.push(epoch);
      history.history.loss.push(logs.loss);
      history.history.accuracy.push(logs.accuracy);
      if (logs.val_loss !== undefined) history.history.val_loss.push(logs.val_loss);
      if (logs.val_accuracy !== undefined) history.history.val_accuracy.push(logs.val_accuracy);
      history.history.seconds.push(logs.seconds);
      onEvent({ type: "epochEnd", epoch, logs });
    }
    return history;
  } finally {
    tf.dispose([xVal, yVal].filter((t): t is Tensor => t !== null));
    onEvent({ type: "trainEnd", history });
  }
}

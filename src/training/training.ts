/**
 * Keras's fit and evaluate loops: categorical cross-entropy computed from the
 * logits under the final softmax (as Keras does on TensorFlow), the compiled
 * metrics ("accuracy" among them) averaged over samples, `validationSplit`
 * holding out the *last* fraction of the data, the rest reshuffled every epoch, and
 * Keras's callback protocol (callbacks.ts) at every epoch and batch.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Optimizer, Tensor } from "@tensorflow/tfjs-node";
import seedrandom from "seedrandom";
import { tf } from "../core/backend";
import { batchRanges } from "../core/batches";
import { UserError } from "../core/errors";
import type { Network } from "../core/network";
import { testFunction, trainFunction, type BatchAugmentation, type LossName, type Metric } from "../engine";
import type { CallbackList, Logs, TrainingParams } from "./callbacks";
import { checkData, compiledLoss } from "./dataChecks";

/** An evaluation's loss, and each metric given to compile by the name it was given ("accuracy", "mse", …). */
export interface Evaluation {
  loss: number;
  metrics: Record<string, number>;
}

/**
 * Keras's `History`: `history.history.accuracy[e]` is epoch e's training
 * accuracy, when compiled with "accuracy". Without validation data there are
 * no `val_` entries, as in Keras.
 * `seconds` (each epoch's wall time, validation included) is beyond Keras:
 * question 14 asks about it.
 */
export interface History {
  epoch: number[];
  history: {
    loss: number[];
    val_loss?: number[];
    seconds: number[];
    /** Each metric given to compile ("accuracy", …), and its val_ twin, as Keras logs them. */
    [metric: string]: number[] | undefined;
  };
  params: TrainingParams;
}

/** The model's optimizer and loss, checked once per call to fit: the loss is computed by the engine. */
function checkCompiled(model: Network): { optimizer: Optimizer; loss: LossName } {
  const optimizer = model.optimizer as Optimizer | undefined;
  if (optimizer === undefined) {
    throw new UserError(
      "The model has no optimizer yet: call model.compile({ optimizer, loss, metrics }) before training.",
    );
  }
  return { optimizer, loss: compiledLoss(model) };
}

function checkPair(x: Tensor, y: Tensor, what: string): number {
  const n = x.shape[0] ?? 0;
  if (y.shape[0] !== n)
    throw new UserError(`${what}: x holds ${n} examples but y holds ${y.shape[0]}; they must match.`);
  return n;
}

/** A batch's [loss sum, ...metric sums] as numbers; the tensors are freed. */
function readTotals(totals: Tensor[]): number[] {
  const values = totals.map((t) => t.dataSync()[0]!);
  tf.dispose(totals);
  return values;
}

const byName = (metrics: Metric[], sums: number[], n: number) =>
  Object.fromEntries(metrics.map((m, i) => [m.name, sums[i]! / n]));

/**
 * Mean loss and metrics over `x`, in batches of `batchSize`, in inference mode
 * (dropout off), each batch one TensorFlow function once it can be (unless `runEagerly`).
 * The data's fit to the model is checked by the caller, once: fit before its first epoch
 * (validation included), evaluate before it starts.
 */
export function evaluateNetwork(
  model: Network,
  x: Tensor,
  y: Tensor,
  batchSize: number,
  what = "model.evaluate",
  metrics: Metric[] = [],
  runEagerly = false,
): Evaluation {
  const n = checkPair(x, y, what);
  if (n === 0) throw new UserError(`${what}: no examples to evaluate.`);
  const sums = [0, ...metrics.map(() => 0)];
  const steps = testFunction(model, metrics, runEagerly);
  // What the step's JavaScript reads may have changed since the last call: its first batch is recorded and compared
  // again.
  steps.recheck();
  for (const [start, size] of batchRanges(n, batchSize)) {
    // The batch picked by its indices, an input of the function (a slice would bake its start in).
    const totals = tf.tidy(() => steps.run([x, y, tf.range(start, start + size, 1, "int32")]));
    readTotals(totals).forEach((v, i) => (sums[i]! += v));
  }
  return { loss: sums[0]! / n, metrics: byName(metrics, sums.slice(1), n) };
}

function shuffled(count: number, random: () => number): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export interface FitLoopOptions {
  epochs: number;
  batchSize: number;
  /** Fraction held out for validation, taken from the end like Keras; 0 for none. */
  validationSplit: number;
  /** Validation examples of their own; they take the place of validationSplit, as in Keras. */
  validationData?: [Tensor, Tensor];
  shuffle: boolean;
  /** Seeds the shuffling; with a seeded model, runs repeat exactly. */
  seed?: number;
  /** Aborting stops training at the next batch boundary, keeping finished epochs. */
  signal?: AbortSignal;
  /** Keeps the history up to date epoch by epoch (the model's `history`). */
  onHistory?: (history: History) => void;
  /** The metrics given to compile, logged under their names. */
  metrics?: Metric[];
  /** Keras's `run_eagerly`: every step op by op, never as one TensorFlow function (slower; for debugging). */
  runEagerly?: boolean;
  /**
   * Changes each training batch of x before the model sees it (an ImageDataGenerator's flow); validation is left as it
   * is.
   */
  augment?: BatchAugmentation;
  /** Told, once, a sentence for the fit's output: why the step stays op by op when it cannot run as one function. */
  onNote?: (line: string) => void;
}

/** Thrown when training was interrupted: the model keeps its weights, `model.history` the finished epochs. */
export class TrainingInterrupted extends UserError {
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly history: History,
  ) {
    const kept = history.epoch.length;
    super(
      `Training was interrupted in epoch ${epoch + 1} at step ${step}/${history.params.steps}. ` +
        `model.history keeps the ${kept} finished epoch${kept === 1 ? "" : "s"} and the model the weights it had ` +
        `reached; ` +
        `run the cell again to train all ${history.params.epochs} epochs.`,
    );
  }
}

/**
 * `model.fit(x, y, …)` as Keras runs it, with the optimizer given to
 * `model.compile`. Yields to the event loop between batches so progress can
 * be shown and an interrupt noticed. A callback that sets
 * `model.stopTraining` ends training after the current batch, as in Keras.
 */
export async function fitNetwork(
  model: Network,
  x: Tensor,
  y: Tensor,
  options: FitLoopOptions,
  callbacks: CallbackList,
): Promise<History> {
  const { epochs, batchSize, validationSplit, validationData, signal, metrics = [] } = options;
  const { optimizer, loss } = checkCompiled(model);
  const n = checkPair(x, y, "model.fit");
  checkData(model, loss, x, y, "model.fit");
  if (validationData !== undefined) {
    checkPair(validationData[0], validationData[1], "validationData");
    checkData(model, loss, validationData[0], validationData[1], "validationData");
  }
  const trainCount = validationData === undefined ? Math.floor(n * (1 - validationSplit)) : n;
  if (trainCount === 0)
    throw new UserError(
      `validationSplit ${validationSplit} leaves no training examples out of ${n}: use a smaller split or more ` +
        `examples.`,
    );
  const [xVal, yVal] = validationData ?? (trainCount < n ? [x.slice(trainCount), y.slice(trainCount)] : [null, null]);
  const logged = ["loss", ...metrics.map((m) => m.name)];
  const params: TrainingParams = {
    epochs,
    batchSize,
    steps: Math.ceil(trainCount / batchSize),
    samples: trainCount,
    validationSamples: xVal?.shape[0] ?? 0,
    metrics: xVal === null ? logged : [...logged, ...logged.map((name) => `val_${name}`)],
  };
  const ownsValidation = validationData === undefined && xVal !== null;
  try {
    callbacks.setParams(params); // a callback that cannot work with these refuses here, before anything changes
  } catch (error) {
    if (ownsValidation) tf.dispose([xVal!, yVal!]);
    throw error;
  }
  const history: History = { epoch: [], history: { loss: [], seconds: [] }, params };
  for (const name of params.metrics) history.history[name] = [];
  options.onHistory?.(history);
  const random = seedrandom(String(options.seed ?? Math.random()));
  const steps = trainFunction(model, optimizer, metrics, options.runEagerly ?? false, options.augment ?? null);
  model.stopTraining = false;
  let refusalNoted = false;
  const noteRefusal = () => {
    const why = refusalNoted ? null : steps.refusal();
    if (why === null) return;
    refusalNoted = true;
    options.onNote?.(
      `Note: the training step runs op by op, not as one TensorFlow function, because ${why}; it trains correctly, ` +
        `but slower.`,
    );
  };

  let interrupted: TrainingInterrupted | null = null;
  try {
    await callbacks.onTrainBegin({});
    for (let epoch = 0; epoch < epochs && !model.stopTraining && interrupted === null; epoch++) {
      await callbacks.onEpochBegin(epoch, {});
      // A callback may have changed what the step computes: its first step is recorded and compared again.
      steps.recheck();
      const started = performance.now();
      const order = options.shuffle
        ? shuffled(trainCount, random)
        : Int32Array.from({ length: trainCount }, (_, i) => i);
      let seen = 0;
      let lossSum = 0;
      const metricSums = metrics.map(() => 0);
      for (let step = 0; step < params.steps && !model.stopTraining; step++) {
        if (signal?.aborted) {
          interrupted = new TrainingInterrupted(epoch, step, history);
          break;
        }
        const indices = order.subarray(step * batchSize, Math.min((step + 1) * batchSize, trainCount));
        await callbacks.onBatchBegin(step, { batch: step, size: indices.length });
        const totals = tf.tidy(() => steps.run([x, y, tf.tensor1d(indices, "int32")]));
        const [batchLoss, ...batchMetrics] = readTotals(totals);
        lossSum += batchLoss!;
        batchMetrics.forEach((v, i) => (metricSums[i]! += v));
        seen += indices.length;
        noteRefusal();
        // Running means over the epoch so far, as Keras 3 reports them.
        await callbacks.onBatchEnd(step, {
          batch: step,
          size: indices.length,
          loss: lossSum / seen,
          ...byName(metrics, metricSums, seen),
        });
        await nextTurn();
      }
      if (interrupted !== null || seen === 0) break;
      const logs: Logs = { loss: lossSum / seen, ...byName(metrics, metricSums, seen) };
      if (xVal !== null && yVal !== null) {
        const validation = evaluateNetwork(model, xVal, yVal, batchSize, "validation", metrics, options.runEagerly);
        logs.val_loss = validation.loss;
        for (const [name, value] of Object.entries(validation.metrics)) logs[`val_${name}`] = value;
      }
      history.epoch.push(epoch);
      for (const [name, value] of Object.entries(logs)) history.history[name]?.push(value!);
      history.history.seconds.push((performance.now() - started) / 1000);
      await callbacks.onEpochEnd(epoch, logs);
    }
  } finally {
    if (ownsValidation) tf.dispose([xVal!, yVal!]);
  }
  // Also after an interrupt: callbacks that restore or draw something at the end still do.
  await callbacks.onTrainEnd({});
  if (interrupted !== null) throw interrupted;
  return history;
}

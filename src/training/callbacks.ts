/**
 * Keras's callback protocol and the callbacks Keras users reach for, with
 * Keras's names in camelCase: earlyStopping (with restoreBestWeights, which
 * tfjs-layers lacks), modelCheckpoint (with saveBestOnly) and tensorBoard
 * (tfjs-node's own event writer). A callback is any object with some of
 * `onTrainBegin / onEpochBegin / onBatchBegin / onBatchEnd / onEpochEnd /
 * onTrainEnd`, so tfjs's own callbacks and an inline
 * `{ onEpochEnd: async (epoch, logs) => … }` work alike.
 */
import path from "node:path";
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import type { Network } from "../core/network";

/** What `fit` hands its callbacks' `setParams`, as tfjs-layers does. */
export type TrainingParams = {
  epochs: number;
  batchSize: number;
  /** Batches per epoch. */
  steps: number;
  samples: number;
  /** Examples validated after each epoch; 0 without validation data. */
  validationSamples: number;
  /** What each epoch logs, as tfjs names them: "loss", each compiled metric, then their val_ twins. */
  metrics: string[];
};

/** Keras's logs: loss and the compiled metrics (then their val_ twins after an epoch); batch and size after a batch. */
export type Logs = { [name: string]: number };

type Hook<A extends unknown[]> = (...args: A) => void | Promise<void>;

export interface Callback {
  setParams?(params: TrainingParams): void;
  /** Typed loosely so tfjs's own callbacks (which take a LayersModel) fit; fit hands in the model it trains. */
  setModel?(model: never): void;
  onTrainBegin?: Hook<[logs?: Logs]>;
  onTrainEnd?: Hook<[logs?: Logs]>;
  onEpochBegin?: Hook<[epoch: number, logs?: Logs]>;
  onEpochEnd?: Hook<[epoch: number, logs?: Logs]>;
  onBatchBegin?: Hook<[batch: number, logs?: Logs]>;
  onBatchEnd?: Hook<[batch: number, logs?: Logs]>;
}

/** The callbacks of one fit, called in order and awaited, each hook only where the callback has it. */
export class CallbackList {
  constructor(
    private readonly callbacks: Callback[],
    model: Network,
  ) {
    for (const callback of callbacks) (callback.setModel as ((m: Network) => void) | undefined)?.call(callback, model);
  }

  setParams(params: TrainingParams): void {
    for (const callback of this.callbacks) callback.setParams?.(params);
  }

  async onTrainBegin(logs: Logs): Promise<void> {
    for (const callback of this.callbacks) await callback.onTrainBegin?.(logs);
  }

  async onTrainEnd(logs: Logs): Promise<void> {
    for (const callback of this.callbacks) await callback.onTrainEnd?.(logs);
  }

  async onEpochBegin(epoch: number, logs: Logs): Promise<void> {
    for (const callback of this.callbacks) await callback.onEpochBegin?.(epoch, logs);
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    for (const callback of this.callbacks) await callback.onEpochEnd?.(epoch, logs);
  }

  async onBatchBegin(batch: number, logs: Logs): Promise<void> {
    for (const callback of this.callbacks) await callback.onBatchBegin?.(batch, logs);
  }

  async onBatchEnd(batch: number, logs: Logs): Promise<void> {
    for (const callback of this.callbacks) await callback.onBatchEnd?.(batch, logs);
  }
}

type Mode = "auto" | "min" | "max";

/**
 * What earlyStopping and modelCheckpoint share: one monitored metric, the
 * best value so far and whether a new one beats it by `minDelta`. Refuses a
 * `val_` metric when fit has no validation data, rather than Keras's warning.
 */
abstract class Monitor implements Callback {
  protected model: Network | null = null;
  protected best = NaN;
  private readonly sign: 1 | -1;

  constructor(
    protected readonly monitor: string,
    mode: Mode,
    private readonly minDelta: number,
    private readonly who: string,
  ) {
    if (!["auto", "min", "max"].includes(mode))
      throw new UserError(`${who}: mode must be "auto", "min" or "max", got ${JSON.stringify(mode)}.`);
    if (!(minDelta >= 0)) throw new UserError(`${who}: minDelta must be a number ≥ 0, got ${minDelta}.`);
    // Keras's "auto": accuracies should grow, everything else (losses) shrink.
    this.sign = mode === "max" || (mode === "auto" && /acc/.test(monitor)) ? 1 : -1;
  }

  setModel(model: Network): void {
    this.model = model;
  }

  setParams(params: TrainingParams): void {
    if (this.monitor.startsWith("val_") && params.validationSamples === 0) {
      throw new UserError(
        `${this.who} monitors "${this.monitor}", but this fit has no validation data (validationSplit 0): ` +
          `give validationSplit (e.g. 0.2) or validationData, or monitor "${this.monitor.slice(4)}".`,
      );
    }
    this.best = NaN;
  }

  /** The monitored value of these logs, or an error naming the ones there are. */
  protected current(logs: Logs | undefined): number {
    const value = logs?.[this.monitor];
    if (value === undefined) {
      throw new UserError(
        `${this.who} monitors "${this.monitor}", which the logs do not have; they have ` +
          `${Object.keys(logs ?? {}).join(", ")}.`,
      );
    }
    return value;
  }

  protected improves(value: number): boolean {
    return Number.isNaN(this.best) || this.sign * (value - this.best) > this.minDelta;
  }
}

export interface EarlyStoppingArgs {
  /** The metric to watch; "val_loss" by default, as in Keras. */
  monitor?: string;
  /** How much a change must exceed to count as an improvement (0). */
  minDelta?: number;
  /** Epochs without improvement before training stops (0). */
  patience?: number;
  mode?: Mode;
  /** Put back the weights of the best epoch when training ends, however it ends (false). */
  restoreBestWeights?: boolean;
  /** 1: say when training stops and which weights were restored (0). */
  verbose?: number;
}

export class EarlyStopping extends Monitor {
  private readonly patience: number;
  private readonly restoreBestWeights: boolean;
  private readonly verbose: number;
  private wait = 0;
  private bestWeights: Tensor[] | null = null;
  /**
   * The epoch (from 0) whose weights were the best, and the one training stopped after (-1 if it did not stop early).
   */
  bestEpoch = -1;
  stoppedEpoch = -1;

  constructor({
    monitor = "val_loss",
    minDelta = 0,
    patience = 0,
    mode = "auto",
    restoreBestWeights = false,
    verbose = 0,
  }: EarlyStoppingArgs = {}) {
    super(monitor, mode, minDelta, "earlyStopping");
    if (!Number.isInteger(patience) || patience < 0)
      throw new UserError(`earlyStopping: patience must be a whole number ≥ 0, got ${patience}.`);
    this.patience = patience;
    this.restoreBestWeights = restoreBestWeights;
    this.verbose = verbose;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.dropBestWeights();
  }

  onEpochEnd(epoch: number, logs?: Logs): void {
    const value = this.current(logs);
    this.wait += 1;
    if (this.improves(value)) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights) {
        this.dropBestWeights();
        this.bestWeights = this.model!.getWeights().map((w) => w.clone());
      }
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model!.stopTraining = true;
    }
  }

  onTrainEnd(): void {
    if (this.stoppedEpoch >= 0 && this.verbose > 0) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.bestWeights !== null) {
      this.model!.setWeights(this.bestWeights);
      if (this.verbose > 0)
        console.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
    }
    this.dropBestWeights();
  }

  private dropBestWeights(): void {
    if (this.bestWeights !== null) tf.dispose(this.bestWeights);
    this.bestWeights = null;
  }
}

/**
 * `keras.callbacks.EarlyStopping`: stops when `monitor` stops improving, and with restoreBestWeights puts the best
 * epoch's weights back.
 */
export const earlyStopping = (args?: EarlyStoppingArgs) => new EarlyStopping(args);

export interface ModelCheckpointArgs {
  /** The folder to save into (tfjs's model.json and weights.bin); `{epoch}` in it becomes the epoch's number from 1. */
  filepath: string;
  monitor?: string;
  /** Save only when `monitor` improves on the best so far (false: after every epoch). */
  saveBestOnly?: boolean;
  mode?: Mode;
  /** 1: say what was saved and why (0). */
  verbose?: number;
}

export class ModelCheckpoint extends Monitor {
  private readonly filepath: string;
  private readonly saveBestOnly: boolean;
  private readonly verbose: number;
  /** The epochs (from 0) saved in this fit, in order. */
  readonly saved: number[] = [];

  constructor({
    filepath,
    monitor = "val_loss",
    saveBestOnly = false,
    mode = "auto",
    verbose = 0,
  }: ModelCheckpointArgs) {
    super(monitor, mode, 0, "modelCheckpoint");
    if (typeof filepath !== "string" || filepath === "")
      throw new UserError(
        'modelCheckpoint needs a filepath: the folder to save into, e.g. "../output/checkpoints/model_1".',
      );
    this.filepath = filepath.replace(/^file:\/\//, "");
    this.saveBestOnly = saveBestOnly;
    this.verbose = verbose;
  }

  override setParams(params: TrainingParams): void {
    if (this.saveBestOnly) super.setParams(params);
    this.saved.length = 0;
  }

  async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    const target = this.filepath.replaceAll("{epoch}", String(epoch + 1));
    if (this.saveBestOnly) {
      const value = this.current(logs);
      if (!this.improves(value)) {
        if (this.verbose > 0)
          console.log(`Epoch ${epoch + 1}: ${this.monitor} did not improve from ${this.best.toFixed(5)}`);
        return;
      }
      if (this.verbose > 0) {
        const from = Number.isNaN(this.best) ? "" : ` from ${this.best.toFixed(5)}`;
        console.log(
          `Epoch ${epoch + 1}: ${this.monitor} improved${from} to ${value.toFixed(5)}, saving model to ` +
            `${path.normalize(target)}`,
        );
      }
      this.best = value;
    } else if (this.verbose > 0) {
      console.log(`Epoch ${epoch + 1}: saving model to ${path.normalize(target)}`);
    }
    await this.model!.save(`file://${target}`); // KerasSequential writes it atomically
    this.saved.push(epoch);
  }
}

/**
 * `keras.callbacks.ModelCheckpoint`: saves the model in tfjs's format after each epoch, or only when `monitor`
 * improves.
 */
export const modelCheckpoint = (args: ModelCheckpointArgs) => new ModelCheckpoint(args);

/**
 * `keras.callbacks.TensorBoard(log_dir)`: TensorBoard's own event files,
 * written by tfjs-node's summary writer in Keras's layout: runs `train/` and
 * `val/` with scalars `epoch_loss` and `epoch_accuracy` (with updateFreq
 * "batch", also `batch_…`). `npm run tensorboard -- DIR` shows them.
 */
export function tensorBoard(logDir = "logs", args: { updateFreq?: "batch" | "epoch" } = {}): Callback {
  if (typeof logDir !== "string" || logDir === "")
    throw new UserError(
      'tensorBoard needs the folder to write its logs to, e.g. tensorBoard("../output/logs/model_1").',
    );
  return tf.node.tensorBoard(logDir, { updateFreq: args.updateFreq ?? "epoch" });
}

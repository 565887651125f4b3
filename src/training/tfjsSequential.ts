/**
 * `tf.sequential()` as TensorFlow.js's tutorials write it: layers from
 * `tf.layers.*`, `compile` with an optimizer's name or `tf.train.*`, `fit`
 * resolving to tfjs's History (accuracy logged as "acc"), `evaluate` returning
 * scalars. It trains on the same engine as kerasLayers' models; the package's
 * `tf` (tf.ts) makes these, so a tutorial's code runs unchanged, only faster.
 */
import type {
  History as TfjsHistory,
  ModelCompileArgs,
  ModelEvaluateArgs,
  ModelFitArgs,
  Scalar,
  Sequential,
  SequentialArgs,
  Tensor,
} from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import type { Metric } from "../engine";
import type { Callback, Logs } from "./callbacks";
import { asList, compileForEngine, fitOnEngine } from "./sequential";
import { evaluateNetwork } from "./training";

/** tfjs's fit arguments this engine does not take, with what to do instead. */
const REFUSED: Partial<Record<keyof ModelFitArgs, string>> = {
  classWeight: "weight the loss by class yourself, or balance the classes in the data",
  sampleWeight: "weighting single examples is not supported",
  initialEpoch: "fit again from epoch 0; the model keeps its weights between fits",
  stepsPerEpoch: "give fit the examples themselves; an epoch is one pass over them",
  validationSteps: "give validationData in full; it is validated in batches of batchSize",
};

/** A callback given to fit, seeing tfjs's log names only: those `pick` keeps. */
function withLogs(callback: Callback, pick: (logs: Logs | undefined) => Logs): Callback {
  const hooks = ["onTrainBegin", "onTrainEnd", "onEpochBegin", "onEpochEnd", "onBatchBegin", "onBatchEnd"] as const;
  const adapted: Callback = {
    setParams: (params) => callback.setParams?.(params),
    setModel: (model: never) => callback.setModel?.(model),
  };
  for (const hook of hooks) {
    const f = callback[hook] as ((...args: unknown[]) => void | Promise<void>) | undefined;
    if (f === undefined) continue;
    adapted[hook] = ((...args: unknown[]) => {
      // onTrainBegin/End take the logs first, the others after an epoch or batch index
      const at = hook === "onTrainBegin" || hook === "onTrainEnd" ? 0 : 1;
      const logs = pick(args[at] as Logs | undefined);
      return f.call(callback, ...args.slice(0, at), logs);
    }) as never;
  }
  return adapted;
}

type Inputs = Tensor | Tensor[] | { [name: string]: Tensor };

export class TfjsSequential extends tf.Sequential {
  /** The metrics given to compile, "accuracy" as "acc" as tfjs logs it. */
  private engineMetrics: Metric[] = [];

  constructor(args: SequentialArgs = {}) {
    super(args);
  }

  override compile(args: ModelCompileArgs): void {
    const metrics = asList(args.metrics).map((m) => (m === "accuracy" ? "acc" : m)) as ModelCompileArgs["metrics"];
    this.engineMetrics = compileForEngine(this, { ...args, metrics });
  }

  /** Whether tfjs would log `name`: the loss and the compiled metrics, with val_ twins; batch and size per batch. */
  private reports(name: string): boolean {
    const base = name.replace(/^val_/, "");
    return ["loss", "batch", "size"].includes(base) || this.engineMetrics.some((m) => m.name === base);
  }

  private pick<V>(logs: Record<string, V> = {}): Record<string, V> {
    return Object.fromEntries(Object.entries(logs).filter(([k]) => this.reports(k)));
  }

  override async fit(x: Inputs, y: Inputs, args: ModelFitArgs = {}): Promise<TfjsHistory> {
    if (!(x instanceof tf.Tensor) || !(y instanceof tf.Tensor))
      throw new UserError("model.fit: x and y must each be one tensor (this model has one input and one output).");
    const refused = (Object.keys(REFUSED) as (keyof ModelFitArgs)[]).filter(
      (key) => args[key] !== undefined && !(key === "initialEpoch" && args[key] === 0),
    );
    if ((args.shuffle as unknown) === "batch") refused.push("shuffle");
    if (refused.length > 0) {
      const named = refused.map((key) => `${key} (${REFUSED[key] ?? 'shuffle "batch": use shuffle: true'})`);
      throw new UserError(
        `model.fit: ${named.join("; ")} ` +
          `is not taken by this package's training. To train with tfjs-layers' own loop instead, slower: ` +
          `tf.Sequential.prototype.fit.call(model, x, y, args).`,
      );
    }
    const validationData = args.validationData as Tensor[] | undefined;
    if (validationData !== undefined && validationData.length !== 2)
      throw new UserError("model.fit: validationData must be [x, y]; weights for it are not taken.");
    const { callbacks, verbose, batchSize, epochs, validationSplit, shuffle } = args;
    const history = await fitOnEngine(
      this,
      x,
      y,
      {
        batchSize,
        epochs,
        validationSplit,
        validationData: validationData as [Tensor, Tensor] | undefined,
        shuffle: shuffle as boolean | undefined,
        verbose: verbose as 0 | 1 | undefined,
        callbacks: callbacks as unknown as Callback[] | undefined,
      },
      {
        metrics: this.engineMetrics,
        adaptCallback: (callback) => withLogs(callback, (logs) => this.pick(logs)),
      },
    );
    const result = new tf.History();
    result.epoch = history.epoch;
    result.history = this.pick(history.history) as TfjsHistory["history"];
    result.setParams(history.params as never);
    return result;
  }

  /** tfjs's evaluate: the loss as a scalar, or [loss, ...metrics] with metrics compiled. */
  override evaluate(x: Inputs, y: Inputs, args: ModelEvaluateArgs = {}): Scalar | Scalar[] {
    if (!(x instanceof tf.Tensor) || !(y instanceof tf.Tensor))
      throw new UserError("model.evaluate: x and y must each be one tensor (this model has one input and one output).");
    const { loss, metrics } = evaluateNetwork(
      this,
      x,
      y,
      args.batchSize ?? 32,
      "model.evaluate",
      this.engineMetrics,
      false,
    );
    const scalars = [loss, ...this.engineMetrics.map((m) => metrics[m.name]!)].map((v) => tf.scalar(v));
    return scalars.length === 1 ? scalars[0]! : scalars;
  }
}

/** tfjs's `tf.sequential()`, making a model that trains on this package's engine. */
export const sequential = (args?: SequentialArgs): Sequential => new TfjsSequential(args);

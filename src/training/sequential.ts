/**
 * The model a notebook builds and trains: tfjs-layers' own Sequential, with
 * `fit`, `evaluate` and `summary` as Keras has them, on the project's fast
 * path (model/step.ts):
 *
 *   const layers = kerasLayers(seed);
 *   const model = layers.sequential({ name: "model_1" });
 *   model.add(layers.conv2d({ … }));  …
 *   model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1 }),
 *                   metrics: ["accuracy"] });
 *   const history = await model.fit(xTrain, yTrain, { batchSize: 128, epochs: 6, validationSplit: 0.2 });
 *   const [loss, accuracy] = model.evaluate(xTest, yTest);
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { ModelCompileArgs, Sequential, Tensor } from "@tensorflow/tfjs-node";
import type { Layer, Network } from "../core/network";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import { collectGarbage } from "../core/memory";
import { metricNamed, METRIC_NAMES, planFor, type Metric } from "../engine";
import { layerFactory, type KerasLayers } from "../model/layers";
import { kerasSummary } from "../model/summary";
import { CallbackList, type Callback } from "./callbacks";
import { checkData, compiledLoss, lossForCompile } from "./dataChecks";
import { writeFolderAtomic } from "./persistence";
import { KerasProgress } from "./progress";
import { ImageFlow } from "./generator";
import { evaluateNetwork, fitNetwork, TrainingInterrupted, type History } from "./training";

export interface FitArgs {
  /** Examples per gradient update (Keras: 32). */
  batchSize?: number;
  /** Passes over the training examples (1). */
  epochs?: number;
  /** 0: silent; 1: Keras's progress bar, updated in place (the default); 2: one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Objects with Keras's hooks: this package's, tfjs's own, or written inline. */
  callbacks?: Callback | Callback[];
  /** Fraction of the examples held out for validation, taken from the end as Keras does (0: none). */
  validationSplit?: number;
  /** `[x, y]` to validate on instead; takes the place of validationSplit. */
  validationData?: [Tensor, Tensor];
  /** Reshuffle the training examples before each epoch (true). */
  shuffle?: boolean;
}

export interface EvaluateArgs {
  /** Examples per batch (128, this notebook's batch size; Keras's default is 32: the figures agree to rounding). */
  batchSize?: number;
}

// tfjs's own fit, evaluate and history are replaced with Keras's semantics (evaluate returns numbers).
type SequentialBase = Omit<Sequential, "fit" | "evaluate" | "history" | "summary" | "save" | "compile">;
const SequentialBase = tf.Sequential as unknown as new (args: { name: string }) => SequentialBase;

const isWholeAbove0 = (v: unknown) => Number.isInteger(v) && (v as number) > 0;

function checkFitArgs(args: FitArgs): void {
  const problems: string[] = [];
  if (args.batchSize !== undefined && !isWholeAbove0(args.batchSize))
    problems.push(`batchSize must be a whole number greater than 0, e.g. batchSize: 128; got ${args.batchSize}.`);
  if (args.epochs !== undefined && !isWholeAbove0(args.epochs))
    problems.push(`epochs must be a whole number greater than 0, e.g. epochs: 6; got ${args.epochs}.`);
  const split = args.validationSplit;
  if (split !== undefined && !(typeof split === "number" && split >= 0 && split < 1)) {
    problems.push(
      `validationSplit must be a number from 0 (no validation) up to, not including, 1, e.g. validationSplit: 0.2; ` +
        `got ${split}.`,
    );
  }
  if (args.verbose !== undefined && ![0, 1, 2].includes(args.verbose))
    problems.push(`verbose must be 0, 1 or 2; got ${args.verbose}.`);
  if (args.validationData !== undefined && !(Array.isArray(args.validationData) && args.validationData.length === 2)) {
    problems.push("validationData must be [x, y], two tensors, e.g. validationData: [data.xTest, data.yTest].");
  }
  if (problems.length > 0) throw new UserError(`model.fit: ${problems.join(" ")}`);
}

/** What a flow decides itself, or Keras refuses with one, named with the fix. */
function checkFlowArgs(args: FitArgs): void {
  if (args.batchSize !== undefined)
    throw new UserError(
      "model.fit: with datagen.flow(…), give the batch size to flow, e.g. datagen.flow(x, y, { batchSize: 128 }), " +
        "not to fit.",
    );
  if (args.shuffle !== undefined)
    throw new UserError(
      "model.fit: with datagen.flow(…), give shuffle to flow, e.g. datagen.flow(x, y, { shuffle: false }), not to fit.",
    );
  if (args.validationSplit) {
    throw new UserError(
      "model.fit: validationSplit cannot split a datagen.flow(…), as in Keras; hold the validation images out " +
        "yourself and give them as validationData: [xVal, yVal].",
    );
  }
}

/** A value that may be one item or a list of them, as a list (none for undefined). */
export const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * tfjs's compile on `model`, with Keras's spellings of a loss; returns the engine's metrics for those given, in their
 * order. tfjs-layers' own metrics are not used, so none is handed to it.
 */
export function compileForEngine(model: SequentialBase | Sequential, args: ModelCompileArgs): Metric[] {
  const metrics = asList(args.metrics).map((m) => {
    const metric = metricNamed(m);
    if (metric === null) {
      const name = typeof m === "string" ? JSON.stringify(m) : "a metric function";
      throw new UserError(
        `model.compile: metric ${name} is not one computed here. Use any of ` +
          `${METRIC_NAMES.map((n) => JSON.stringify(n)).join(", ")} (stateful metrics such as AUC, precision and ` +
          `recall are not).`,
      );
    }
    return metric;
  });
  tf.Sequential.prototype.compile.call(model, {
    ...args,
    loss: lossForCompile(args.loss) as ModelCompileArgs["loss"],
    metrics: undefined,
  });
  return metrics;
}

export interface EngineFitOptions {
  /** A datagen.flow(…) given to fit in place of x and y (which are then its own). */
  flow?: ImageFlow | null;
  /** The model's seed: shuffling follows it. */
  seed?: number;
  metrics: Metric[];
  /** Keras's run_eagerly (false): each batch op by op. */
  runEagerly?: boolean;
  /** Called with the history as it grows, epoch by epoch. */
  onHistory?(history: History): void;
  /** The callbacks as fit's caller gave them, made into the engine's (tfjs's logs, for one). */
  adaptCallback?(callback: Callback): Callback;
}

/**
 * fit on the engine, for both Sequential classes: the arguments checked, Keras's progress bar, a note for each thing
 * that runs slower or less repeatably than it could, and the kernel's interrupt (Ctrl-C) ending training cleanly.
 */
export async function fitOnEngine(
  model: Network,
  x: Tensor,
  y: Tensor,
  args: FitArgs,
  options: EngineFitOptions,
): Promise<History> {
  const flow = options.flow ?? null;
  checkFitArgs(args);
  if (flow !== null) checkFlowArgs(args);
  const { epochs = 1, verbose = 1, validationSplit = 0, validationData } = args;
  const { batchSize = 32, shuffle = true } = flow ?? args;
  const given = asList(args.callbacks);
  const adapted = options.adaptCallback === undefined ? given : given.map(options.adaptCallback);
  const progress = verbose === 0 ? null : new KerasProgress(undefined, verbose);
  const callbacks = new CallbackList(progress === null ? adapted : [progress, ...adapted], model);
  const { slow, unseeded } = planFor(model);
  const named = (layers: Layer[]) => layers.map((layer) => `${layer.name} (${layer.getClassName()})`).join(", ");
  if (slow.length > 0)
    progress?.note(
      `Note: ${named(slow)} ${slow.length === 1 ? "runs" : "run"} on tfjs-layers' general path, which trains ` +
        `correctly but slower than the fast path the other layers take.`,
    );
  if (unseeded.length > 0)
    progress?.note(
      `Note: ${named(unseeded)} ${unseeded.length === 1 ? "has" : "have"} no seed, ` +
        `so ${unseeded.length === 1 ? "its" : "their"} ` +
        `dropout masks differ from run to run; for repeatable runs give each a seed, e.g. ` +
        `tf.layers.dropout({ rate: 0.25, seed: 1 }), or use kerasLayers(seed).dropout.`,
    );
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  // tslab runs a cell's synchronous start under vm's breakOnSigint; a SIGINT
  // listener added then is lost when it ends, and the kernel's next interrupt
  // kills it (seen with tslab 1.0.22, Node 20). Adding it one turn later is safe.
  await nextTurn();
  process.on("SIGINT", onInterrupt);
  try {
    return await fitNetwork(
      model,
      x,
      y,
      {
        epochs,
        batchSize,
        validationSplit,
        validationData,
        shuffle,
        seed: flow?.seed ?? options.seed,
        signal: controller.signal,
        metrics: options.metrics,
        runEagerly: options.runEagerly,
        augment: flow?.augment,
        onHistory: options.onHistory,
        onNote: (line) => progress?.note(line),
      },
      callbacks,
    );
  } catch (error) {
    // In a kernel the interrupt ends the cell at once (tslab's own "Interrupted
    // asynchronously"); the progress output, updated in place, still says where training stopped.
    if (error instanceof TrainingInterrupted) progress?.note(error.message);
    throw error;
  } finally {
    process.off("SIGINT", onInterrupt);
    collectGarbage();
  }
}

export class KerasSequential extends SequentialBase {
  /**
   * The latest fit's history, kept up to date epoch by epoch (so also after an interrupt), as Keras's `model.history`.
   */
  history: History | undefined;

  constructor(
    name: string,
    private readonly seed?: number,
  ) {
    super({ name });
  }

  /** The metrics given to compile, in their order. */
  private kerasMetrics: Metric[] = [];

  /**
   * Keras's `run_eagerly`: when true, fit and evaluate run each batch op by
   * op instead of as one TensorFlow function, slower, and useful only to look
   * into a step. Set by compile's `runEagerly`, or directly.
   */
  runEagerly = false;

  /**
   * tfjs's `compile`, also taking Keras's spelling of a loss ("categorical_crossentropy",
   * "mse"). Metrics are Keras's stateless ones, by Keras's or tfjs's names ("mse", "mae",
   * "categorical_accuracy", …): fit logs each under the name given, and evaluate returns
   * them after the loss, as Keras does. `runEagerly: true` is Keras's `run_eagerly`.
   */
  compile({ runEagerly = false, ...args }: ModelCompileArgs & { runEagerly?: boolean }): void {
    this.kerasMetrics = compileForEngine(this, args);
    this.runEagerly = runEagerly;
  }

  /**
   * Keras's `model.fit`: trains with the optimizer given to `compile` and
   * returns its History. Interrupting the kernel (or Ctrl-C) stops at the next
   * batch boundary; fit then throws, the model keeps its weights and
   * `model.history` the finished epochs. Shuffling follows the model's seed.
   * Keras's `fit(datagen.flow(x, y, batch_size=…))` is `fit(datagen.flow(x, y, { batchSize }), args)`:
   * each batch is transformed afresh, and the flow's batch size, shuffling and seed are used.
   */
  async fit(x: Tensor, y: Tensor, args?: FitArgs): Promise<History>;
  async fit(flow: ImageFlow, args?: FitArgs): Promise<History>;
  async fit(xOrFlow: Tensor | ImageFlow, yOrArgs?: Tensor | FitArgs, maybeArgs: FitArgs = {}): Promise<History> {
    const flow = xOrFlow instanceof ImageFlow ? xOrFlow : null;
    if (flow !== null && yOrArgs instanceof tf.Tensor) {
      throw new UserError(
        "model.fit: a datagen.flow(x, y) already holds the labels; give fit the flow and its options, e.g. " +
          "model.fit(datagen.flow(x, y, { batchSize: 128 }), { epochs: 6 }).",
      );
    }
    const args = flow === null ? maybeArgs : ((yOrArgs ?? {}) as FitArgs);
    const [x, y] = flow === null ? [xOrFlow as Tensor, yOrArgs as Tensor] : [flow.x, flow.y];
    return fitOnEngine(this, x, y, args, {
      flow,
      seed: this.seed,
      metrics: this.kerasMetrics,
      runEagerly: this.runEagerly,
      onHistory: (history) => (this.history = history),
    });
  }

  /**
   * Keras's `model.evaluate`: the loss over `x`, then each metric given to compile
   * (`[loss, accuracy]` for `metrics: ["accuracy"]`), as numbers, in inference mode
   * (dropout off). A list even without metrics, where Keras returns the loss alone.
   */
  evaluate(x: Tensor, y: Tensor, { batchSize = 128 }: EvaluateArgs = {}): [loss: number, ...metrics: number[]] {
    if (!isWholeAbove0(batchSize))
      throw new UserError(`model.evaluate: batchSize must be a whole number greater than 0; got ${batchSize}.`);
    if (this.loss !== undefined) checkData(this, compiledLoss(this), x, y, "model.evaluate");
    const { loss, metrics } = evaluateNetwork(
      this,
      x,
      y,
      batchSize,
      "model.evaluate",
      this.kerasMetrics,
      this.runEagerly,
    );
    return [loss, ...this.kerasMetrics.map((m) => metrics[m.name]!)];
  }

  /**
   * tfjs's `model.save`; a `file://` folder is written through tfjs's own
   * handler into a staging folder that then replaces it whole, its parents made.
   */
  save(...[handlerOrURL, config]: Parameters<Sequential["save"]>): ReturnType<Sequential["save"]> {
    const save = (target: typeof handlerOrURL) => tf.Sequential.prototype.save.call(this, target, config);
    if (typeof handlerOrURL !== "string" || !handlerOrURL.startsWith("file://")) return save(handlerOrURL);
    return writeFolderAtomic(handlerOrURL.slice("file://".length), (staging) => save(`file://${staging}`));
  }

  /** Keras's summary layout (the seed's), not tfjs's. */
  summary(_lineLength?: number, _positions?: number[], printFn: (message?: unknown) => void = console.log): void {
    printFn(kerasSummary(this));
  }
}

/**
 * The seed's layers with Keras's names and seeded initial weights, and
 * `sequential({ name })` for the model that trains them (layers.ts).
 */
export function kerasLayers(seed?: number): KerasLayers<KerasSequential> {
  return layerFactory(seed, (name, modelSeed) => new KerasSequential(name, modelSeed));
}

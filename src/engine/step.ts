/**
 * One training step's numbers: a batch's summed loss, the sums of its compiled
 * metrics, and the gradients of its mean loss by every trainable weight.
 * When every layer is a stage (stages.ts), the backward pass runs stage by
 * stage in reverse, with no gradient tape; otherwise tfjs's tape
 * differentiates the forward pass (forward.ts), stages and tfjs-layers' own
 * layers alike. The loss is the compiled one as Keras computes it
 * (losses.ts), plus any layer's regularization.
 */
import type { NamedTensorMap, Optimizer, Scalar, Tensor, Variable } from "@tensorflow/tfjs-node";
import type { Network } from "../core/network";
import { tf } from "../core/backend";
import { native } from "./binding";
import { CompiledStep, onEveryCall } from "./compiled";
import { lossInput } from "./forward";
import { nativeOps } from "./kernels";
import { exampleLosses, lossAndGradient, type Head, type Metric } from "./losses";
import { planFor, weightsOf, type Stage } from "./stages";

export interface BatchTotals {
  /** The sum of the batch's per-example losses. */
  lossSum: Tensor;
  /** Per metric compiled ("accuracy" among them, if asked for), the sum of its per-example values. */
  metricSums: Tensor[];
}

export interface StepResult extends BatchTotals {
  /** The mean loss's gradient by each trainable weight, by the weight's name. */
  gradients: NamedTensorMap;
}

/** The layers' regularization (kernelRegularizer and the like), or null for none. */
function regularization(model: Network): Scalar | null {
  const losses = model.layers.flatMap((layer) => layer.calculateLosses());
  return losses.length === 0 ? null : (tf.addN(losses) as Scalar);
}

/**
 * A batch's summed loss and metrics. Keras's loss includes the layers'
 * regularization once per batch, which as a sum over the batch's examples
 * counts once per example.
 */
function totals(model: Network, head: Head, z: Tensor, labels: Tensor, metrics: Metric[]): BatchTotals {
  const sum = tf.sum(exampleLosses(head, nativeOps(), z, labels));
  const penalty = regularization(model);
  const lossSum = penalty === null ? sum : tf.add(sum, tf.mul(penalty, labels.shape[0]!));
  return { lossSum, metricSums: metricSums(head, z, labels, metrics) };
}

/** The sums of the metrics' per-example values. */
function metricSums(head: Head, z: Tensor, labels: Tensor, metrics: Metric[]): Tensor[] {
  return metrics.map((m) => tf.sum(m.perExample(head, z, labels)));
}

/** A batch's summed loss and metric sums in inference mode (Keras's `evaluate`); call inside tf.tidy. */
export function evaluationTotals(model: Network, x: Tensor, y: Tensor, metrics: Metric[] = []): BatchTotals {
  return totals(model, planFor(model).head, lossInput(model, x, false), y, metrics);
}

/** The training step through tfjs's tape, for models with a layer that is not a stage. */
function tapedStep(
  model: Network,
  head: Head,
  x: Tensor,
  y: Tensor,
  trainable: Variable[],
  metrics: Metric[],
): StepResult {
  let batch: BatchTotals | undefined;
  const { grads } = tf.variableGrads(() => {
    batch = totals(model, head, lossInput(model, x, true), y, metrics);
    // Kept past variableGrads's own tidy; the caller's tidy frees them.
    tf.keep(batch.lossSum);
    batch.metricSums.forEach((t) => tf.keep(t));
    return tf.div(batch.lossSum, x.shape[0]!) as Scalar;
  }, trainable);
  return { ...batch!, gradients: grads };
}

/** The training step with every layer a stage: forward, then each stage's backward in reverse. */
function stagedStep(
  model: Network,
  head: Head,
  stages: Stage[],
  inputGradient: boolean[],
  x: Tensor,
  y: Tensor,
  trainable: Variable[],
  metrics: Metric[],
): StepResult {
  const ops = nativeOps()!;
  let h = x;
  const records = stages.map((stage) => {
    const weights = weightsOf(stage);
    const { y: out, saved } = stage.forward(h, weights, true);
    h = out;
    return { stage, weights, saved };
  });
  const [losses, gradient] = lossAndGradient(head, ops, h, y);
  let dy: Tensor | null = tf.div(gradient, x.shape[0]!); // of the mean loss
  const byName = new Map<string, Tensor>();
  for (let i = records.length - 1; i >= 0 && dy !== null; i--) {
    const { stage, weights, saved } = records[i]!;
    const { dx, weightGradients } = stage.backward(dy, saved, weights, inputGradient[i]!);
    weights.forEach((w, k) => byName.set((w as Variable).name, weightGradients[k]!));
    dy = dx;
  }
  let lossSum = tf.sum(losses);
  // Regularizers on weights depend on the weights alone: their gradient is added to the stages'.
  if (model.layers.some((layer) => layer.losses.length > 0)) {
    const { value, grads } = tf.variableGrads(() => regularization(model) ?? tf.scalar(0), trainable);
    for (const [name, g] of Object.entries(grads))
      byName.set(name, byName.has(name) ? tf.add(byName.get(name)!, g) : g);
    lossSum = tf.add(lossSum, tf.mul(value, x.shape[0]!));
  }
  // In the model's order of weights, as tf.variableGrads gives them.
  const gradients: NamedTensorMap = Object.fromEntries(trainable.map((v) => [v.name, byName.get(v.name)!]));
  return { lossSum, metricSums: metricSums(head, h, y, metrics), gradients };
}

/**
 * Loss, metric sums and gradients of the mean loss for one batch, in
 * training mode (dropout on, batch statistics). Call inside tf.tidy: the
 * caller applies the gradients and reads the totals.
 */
export function trainingStep(model: Network, x: Tensor, y: Tensor, metrics: Metric[] = []): StepResult {
  const plan = planFor(model);
  const trainable = model.trainableWeights.map((w) => w.read() as Variable);
  if (!plan.native) return tapedStep(model, plan.head, x, y, trainable, metrics);
  return stagedStep(
    model,
    plan.head,
    plan.steps.map((step) => step.stage!),
    plan.inputGradient,
    x,
    y,
    trainable,
    metrics,
  );
}

/**
 * Projects each trainable weight that has a constraint (`kernelConstraint:
 * "maxNorm"` and the like) back onto it, as Keras does after every optimizer
 * update; tfjs-layers' own fit leaves constraints unapplied (tfjs issue 3345).
 * Call inside tf.tidy, after the gradients are applied.
 */
export function applyConstraints(model: Network): void {
  for (const weight of model.trainableWeights) {
    if (weight.constraint) (weight.read() as Variable).assign(weight.constraint.apply(weight.read()));
  }
}

/** The optimizer's count of its steps, advanced by `applyGradients` (saved with its weights). */
type Counting = Optimizer & { incrementIterations(): void };

/** A batch as the step functions take it: all of x and y, and the indices of the batch's examples in them. */
export type Batch = [x: Tensor, y: Tensor, index: Tensor];

/** What a training step does to its batch of x before the model sees it (an ImageDataGenerator's transforms). */
export type BatchAugmentation = (x: Tensor) => Tensor;

/**
 * One training step on the examples `index` picks from x and y (augmented
 * first, if asked): the step's numbers, its gradients applied by the
 * optimizer, the weights' constraints after. Returns [loss sum, ...metric
 * sums].
 */
function optimizerStep(
  model: Network,
  optimizer: Optimizer,
  metrics: Metric[],
  augment: BatchAugmentation | null,
  [x, y, index]: Batch,
): Tensor[] {
  const batch = tf.gather(x, index);
  const result = trainingStep(model, augment === null ? batch : augment(batch), tf.gather(y, index), metrics);
  const before = optimizer.iterations;
  optimizer.applyGradients(result.gradients);
  const counted = optimizer.iterations - before;
  onEveryCall(() => {
    for (let i = 0; i < counted; i++) (optimizer as Counting).incrementIterations();
  });
  applyConstraints(model);
  return [result.lossSum, ...result.metricSums];
}

/** The step functions of each model, by purpose, with what they were made for. */
const stepsOfModels = new WeakMap<Network, Map<string, { key: unknown[]; steps: CompiledStep<Batch> }>>();

// One function serves any number of examples: only a batch's size and an example's shape shape it.
const shapeKey = ([x, y, index]: Batch) =>
  `batch ${index.shape[0]}, x [${x.shape.slice(1).join(",")}], y [${y.shape.slice(1).join(",")}]`;

/**
 * The model's `purpose` step, kept while `key` (what it was made for) stays the same, so a later call starts with its
 * function.
 */
function keptSteps(
  model: Network,
  purpose: string,
  key: unknown[],
  eager: boolean,
  body: (batch: Batch) => Tensor[],
): CompiledStep<Batch> {
  let byPurpose = stepsOfModels.get(model);
  if (byPurpose === undefined) stepsOfModels.set(model, (byPurpose = new Map()));
  const kept = byPurpose.get(purpose);
  if (kept !== undefined && kept.key.every((k, i) => k === key[i])) return kept.steps;
  const steps = new CompiledStep(eager ? null : native(), body, shapeKey);
  byPurpose.set(purpose, { key, steps });
  return steps;
}

/**
 * The model's training step, `optimizerStep`, run as one TensorFlow function
 * once it can be (compiled.ts), unless `eager` (Keras's `run_eagerly`): Keras's
 * `train_function`. Kept per model while its plan, optimizer, metrics and
 * trainable weights stay the same. `augment` changes each batch of x first.
 */
export function trainFunction(
  model: Network,
  optimizer: Optimizer,
  metrics: Metric[],
  eager: boolean,
  augment: BatchAugmentation | null = null,
): CompiledStep<Batch> {
  const key = [
    planFor(model),
    optimizer,
    eager,
    metrics.map((m) => m.name).join(),
    model.trainableWeights.map((w) => w.name).join(),
    augment,
  ];
  return keptSteps(model, "training", key, eager, (inputs) =>
    optimizerStep(model, optimizer, metrics, augment, inputs),
  );
}

/**
 * The model's evaluation of a batch, `evaluationTotals` on the examples
 * `index` picks from x and y (inference mode), run as one TensorFlow function
 * once it can be, unless `eager`: Keras's `test_function`. Returns
 * [loss sum, ...metric sums].
 */
export function testFunction(model: Network, metrics: Metric[], eager: boolean): CompiledStep<Batch> {
  const key = [planFor(model), eager, metrics.map((m) => m.name).join()];
  return keptSteps(model, "evaluation", key, eager, ([x, y, index]) => {
    const t = evaluationTotals(model, tf.gather(x, index), tf.gather(y, index), metrics);
    return [t.lossSum, ...t.metricSums];
  });
}

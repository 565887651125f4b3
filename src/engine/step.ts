/**
 * One training step's numbers: a batch's summed loss, its count of correct
 * predictions, and the gradients of its mean loss by every trainable weight.
 * When every layer is a stage (stages.ts), the backward pass runs stage by
 * stage in reverse, with no gradient tape; otherwise tfjs's tape
 * differentiates the forward pass (forward.ts), stages and tfjs-layers' own
 * layers alike. The loss is categorical cross-entropy from the logits, as
 * Keras computes it on TensorFlow, plus any layer's regularization.
 */
import type { NamedTensorMap, Scalar, Tensor, Variable } from "@tensorflow/tfjs-node";
import type { Network } from "../core/network";
import { tf } from "../core/backend";
import { logits, type Save } from "./forward";
import { nativeOps } from "./kernels";
import { planFor, weightsOf, type Stage } from "./stages";

export interface BatchTotals {
  /** The sum of the batch's per-example losses. */
  lossSum: Tensor;
  /** How many of the batch's examples the model classified right. */
  correct: Tensor;
}

export interface StepResult extends BatchTotals {
  /** The mean loss's gradient by each trainable weight, by the weight's name. */
  gradients: NamedTensorMap;
}

function correctCount(logitsBatch: Tensor, labels: Tensor): Tensor {
  return tf.tidy(() => tf.equal(logitsBatch.argMax(-1), labels.argMax(-1)).sum());
}

/** Each example's loss, on tfjs's tape: TensorFlow's one op, or tfjs's own loss outside TensorFlow. */
function exampleLosses(labels: Tensor, logitsBatch: Tensor): Tensor {
  const ops = nativeOps();
  if (ops === null) return tf.losses.softmaxCrossEntropy(labels, logitsBatch, undefined, undefined, tf.Reduction.NONE);
  const withGradient = tf.customGrad(((z: Tensor, save: Save) => {
    const [losses, gradient] = ops.softmaxCrossEntropy(z, labels);
    save([gradient]);
    return { value: losses, gradFunc: (dy: Tensor, [g]: Tensor[]) => tf.mul(g!, tf.expandDims(dy, -1)) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (z: Tensor) => Tensor;
  return withGradient(logitsBatch);
}

/**
 * A batch's summed loss and correct count. Keras's loss includes the layers'
 * regularization (kernelRegularizer and the like) once per batch, which as a
 * sum over the batch's examples counts once per example.
 */
function totals(model: Network, logitsBatch: Tensor, labels: Tensor): BatchTotals {
  const crossEntropy = tf.sum(exampleLosses(labels, logitsBatch));
  const regularization = model.layers.flatMap((layer) => layer.calculateLosses());
  const lossSum = regularization.length === 0 ? crossEntropy : tf.add(crossEntropy, tf.mul(tf.addN(regularization), labels.shape[0]!));
  return { lossSum, correct: correctCount(logitsBatch, labels) };
}

/** A batch's summed loss and correct count in inference mode (Keras's `evaluate`); call inside tf.tidy. */
export function evaluationTotals(model: Network, x: Tensor, y: Tensor): BatchTotals {
  return totals(model, logits(model, x, false), y);
}

/** The training step through tfjs's tape, for models with a layer that is not a stage. */
function tapedStep(model: Network, x: Tensor, y: Tensor, trainable: Variable[]): StepResult {
  let batch: BatchTotals | undefined;
  const { grads } = tf.variableGrads(() => {
    batch = totals(model, logits(model, x, true), y);
    // Kept past variableGrads's own tidy; the caller's tidy frees them.
    tf.keep(batch.lossSum);
    tf.keep(batch.correct);
    return tf.div(batch.lossSum, x.shape[0]!) as Scalar;
  }, trainable);
  return { ...batch!, gradients: grads };
}

/** The training step with every layer a stage: forward, then each stage's backward in reverse. */
function stagedStep(stages: Stage[], inputGradient: boolean[], x: Tensor, y: Tensor, trainable: Variable[]): StepResult {
  const ops = nativeOps()!;
  let h = x;
  const records = stages.map((stage) => {
    const weights = weightsOf(stage);
    const { y: out, saved } = stage.forward(h, weights, true);
    h = out;
    return { stage, weights, saved };
  });
  const [losses, gradient] = ops.softmaxCrossEntropy(h, y);
  let dy: Tensor | null = tf.div(gradient, x.shape[0]!); // of the mean loss
  const byName = new Map<string, Tensor>();
  for (let i = records.length - 1; i >= 0 && dy !== null; i--) {
    const { stage, weights, saved } = records[i]!;
    const { dx, weightGradients } = stage.backward(dy, saved, weights, inputGradient[i]!);
    weights.forEach((w, k) => byName.set((w as Variable).name, weightGradients[k]!));
    dy = dx;
  }
  // In the model's order of weights, as tf.variableGrads gives them.
  const gradients: NamedTensorMap = Object.fromEntries(trainable.map((v) => [v.name, byName.get(v.name)!]));
  return { lossSum: tf.sum(losses), correct: correctCount(h, y), gradients };
}

/**
 * Loss, correct count and gradients of the mean loss for one batch, in
 * training mode (dropout on). Call inside tf.tidy: the caller applies the
 * gradients and reads the totals.
 */
export function trainingStep(model: Network, x: Tensor, y: Tensor): StepResult {
  const plan = planFor(model);
  const trainable = model.trainableWeights.map((w) => w.read() as Variable);
  // A regularized layer is never a stage, so its loss takes the tape.
  if (!plan.native) return tapedStep(model, x, y, trainable);
  return stagedStep(plan.steps.map((step) => step.stage!), plan.inputGradient, x, y, trainable);
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

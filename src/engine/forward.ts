/**
 * The forward pass, step by step as stages.ts plans it: for evaluation, and
 * for training through tfjs's gradient tape when some layer is not a stage
 * (each stage then records its own written-out gradient on the tape). It ends
 * where the loss begins: at the logits under the final softmax or sigmoid
 * when the loss is the matching cross-entropy (as Keras on TensorFlow
 * computes it, exact where a probability underflows), else at the output.
 */
import type { Tensor, Tensor2D } from "@tensorflow/tfjs-node";
import type { Layer, Network } from "../core/network";
import { tf } from "../core/backend";
import { outputFromHead } from "./losses";
import { outputActivation, planFor, weightsOf, type Stage } from "./stages";
import { withGradient } from "./tape";

/** The stage as one op on tfjs's tape: differentiated by its own backward, by its input only if `inputGradient`. */
function taped(stage: Stage, x: Tensor, weights: Tensor[], inputGradient: boolean): Tensor {
  const inputs = inputGradient ? [x, ...weights] : weights;
  if (inputs.length === 0) return stage.forward(x, weights, true).y;
  let ws: Tensor[] = weights;
  const op = withGradient(
    (args) => {
      ws = inputGradient ? args.slice(1) : args;
      const { y, saved } = stage.forward(inputGradient ? args[0]! : x, ws, true);
      return { value: y, saved };
    },
    (dy, saved) => {
      const { dx, weightGradients } = stage.backward(dy, saved, ws, inputGradient);
      return inputGradient ? [dx!, ...weightGradients] : weightGradients;
    },
  );
  return op(...inputs);
}

/**
 * Runs `model` to what its loss takes (planFor's head); `training` turns dropout and batch statistics on and records
 * gradients.
 */
export function lossInput(model: Network, x: Tensor, training: boolean): Tensor {
  const plan = planFor(model);
  let h = x;
  plan.steps.forEach((step, i) => {
    if (step.stage === undefined) h = step.layer.apply(h, { training }) as Tensor;
    else if (training) h = taped(step.stage, h, weightsOf(step.stage), plan.inputGradient[i]!);
    else h = step.stage.forward(h, weightsOf(step.stage), false).y;
  });
  return h;
}

/** The model's output (its predictions) in inference mode, on the fast path. */
export function predictions(model: Network, x: Tensor): Tensor {
  return tf.tidy(() => outputFromHead(planFor(model).head, lossInput(model, x, false)));
}

/** The output activations whose input the logits are: the losses take them there (losses.ts's headFor). */
const SQUASHING = new Set(["softmax", "sigmoid"]);

/**
 * x through `layers` (a model's last layers) in inference mode, on tfjs's tape, up to the logits: the last layer's
 * softmax or sigmoid left out, as a layer of its own or as a Dense layer's activation (Grad-CAM's class score,
 * whose gradient does not vanish on a confident prediction as the probability's does).
 */
export function logitsThrough(layers: Layer[], x: Tensor): Tensor {
  const last = layers[layers.length - 1];
  const ending = last === undefined ? null : outputActivation(last);
  const squashed = ending !== null && SQUASHING.has(ending.name);
  let h = x;
  layers.forEach((layer, i) => {
    if (i === layers.length - 1 && squashed && ending.ownLayer) return;
    if (i === layers.length - 1 && squashed && layer.getClassName() === "Dense") {
      const [kernel, bias] = layer.getWeights();
      const product = tf.matMul(h as Tensor2D, kernel as Tensor2D);
      h = bias === undefined ? product : tf.add(product, bias);
      return;
    }
    h = layer.apply(h, { training: false }) as Tensor;
  });
  return h;
}

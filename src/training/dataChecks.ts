/**
 * What fit and evaluate check before any step runs: that the loss is one the
 * engine computes, that x's examples have the shape the first layer expects,
 * and that y's labels fit the output layer and the loss. Each problem is
 * named in a sentence with the layer and the fix, instead of TensorFlow's
 * error from deep inside the first step.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import type { Network } from "../core/network";
import { lossNamed, type LossName } from "../engine";

const LOSS_CHOICES =
  '"categoricalCrossentropy" (one-hot labels), "sparseCategoricalCrossentropy" (one class number per example), ' +
  '"binaryCrossentropy" or "meanSquaredError"';

/** The compiled loss by Keras's name, or a UserError naming the ones the engine computes. */
export function compiledLoss(model: Network): LossName {
  const loss = lossNamed(model.loss);
  if (loss !== null) return loss;
  const given = typeof model.loss === "string" ? JSON.stringify(model.loss) : "a function of its own";
  throw new UserError(
    `The model was compiled with loss ${given}, which training here does not compute. Compile it with one of ` +
      `${LOSS_CHOICES}.`,
  );
}

/** `compile`'s loss, Keras's spelling accepted ("categorical_crossentropy", "mse"), as tfjs-layers names it. */
export function lossForCompile(loss: unknown): unknown {
  if (typeof loss !== "string") return loss;
  const named = lossNamed(loss);
  if (named === null)
    throw new UserError(
      `model.compile: loss ${JSON.stringify(loss)} is not one training here computes. Use one of ${LOSS_CHOICES}.`,
    );
  return named;
}

const shapeText = (shape: (number | null)[]) => `[${shape.map((d) => d ?? "any").join(", ")}]`;

/** The model's first (or last) layer and the shape of one example at its input (or output); null entries: any size. */
function exampleShape(model: Network, side: "inputs" | "outputs"): { name: string; shape: (number | null)[] } | null {
  try {
    const layer = model.layers[side === "inputs" ? 0 : model.layers.length - 1];
    const shape = model[side][0]?.shape;
    return layer && shape ? { name: layer.name, shape: shape.slice(1) } : null;
  } catch {
    return null;
  }
}

/**
 * Refuses, in one sentence each, x whose examples do not have the first
 * layer's input shape, and y whose labels do not fit the output and the loss.
 * `what` names the call ("model.fit", "validationData").
 */
export function checkData(model: Network, loss: LossName, x: Tensor, y: Tensor, what: string): void {
  const input = exampleShape(model, "inputs");
  const example = x.shape.slice(1);
  if (
    input !== null &&
    (example.length !== input.shape.length || input.shape.some((d, i) => d !== null && d !== example[i]))
  ) {
    throw new UserError(
      `${what}: the first layer, ${input.name}, takes examples of shape ${shapeText(input.shape)}, but x holds ` +
        `examples of shape ${shapeText(example)}. ` +
        `Give the data that shape (for MNIST images, data.reshape([28, 28, 1])), or change inputShape in the first ` +
        `layer to ${shapeText(example)}.`,
    );
  }
  const output = exampleShape(model, "outputs");
  if (output === null) return;
  const units = output.shape[output.shape.length - 1];
  const labels = y.shape.slice(1);
  if (loss === "sparseCategoricalCrossentropy") {
    if (labels.length > 1 || (labels.length === 1 && labels[0] !== 1)) {
      throw new UserError(
        `${what}: sparseCategoricalCrossentropy takes one class number per example, but y holds labels of shape ` +
          `${shapeText(labels)} (one-hot, it seems). ` +
          'Compile with loss: "categoricalCrossentropy" for one-hot labels, or give the class numbers (leave out ' +
          "data.toCategorical).",
      );
    }
    const largest = tf.tidy(() => tf.max(y).dataSync()[0]!);
    if (units != null && largest >= units) {
      throw new UserError(
        `${what}: the labels go up to class ${largest}, but the output layer ${output.name} has ${units} ` +
          `unit${units === 1 ? "" : "s"}, one per class. ` +
          `Give it units: ${largest + 1} (or the number of classes).`,
      );
    }
    return;
  }
  if (labels.length === 0 && output.shape.length === 1 && units !== 1) {
    throw new UserError(
      `${what}: y holds one class number per example, but ${loss} compares each example's ${units} outputs with a ` +
        `label of the same shape. ` +
        'Make the labels one-hot (data.toCategorical(10)), or compile with loss: "sparseCategoricalCrossentropy".',
    );
  }
  // one value per example for a one-unit output, as Keras takes it
  if (labels.length === 0 && output.shape.length === 1 && units === 1) return;
  if (labels.length !== output.shape.length || output.shape.some((d, i) => d !== null && d !== labels[i])) {
    const classes = labels[labels.length - 1];
    throw new UserError(
      `${what}: the output layer ${output.name} gives ${shapeText(output.shape)} per example, but the labels y are ` +
        `${shapeText(labels)} per example` +
        `${labels.length === output.shape.length && classes !== undefined ? ` (${classes} classes)` : ""}. ` +
        (labels.length === output.shape.length && output.shape.length === 1
          ? `Give the output layer units: ${classes}.`
          : "Give the output layer one unit per class, after a Flatten, so that its output matches the labels."),
    );
  }
}

/**
 * The forward pass used for training and evaluation: the model's layers run
 * one by one up to the logits under its final softmax. The layers of these
 * networks (Conv2D and Dense with ReLU, square max-pooling, dropout) take the
 * faster ops of kernels.ts; any other layer runs as tfjs-layers runs it.
 */
import type { LayersModel, Tensor, Tensor2D } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import { biasAdd, conv2d, dense, maxPool, relu } from "./kernels";

type Layer = LayersModel["layers"][number];

const all = (value: unknown, expected: number) => (Array.isArray(value) ? value.every((v) => v === expected) : value === expected);

/** [kernel, bias] of a layer computing relu(x·w + b) or relu(conv(x, w) + b) that kernels.ts handles, else null. */
function reluWeights(layer: Layer, className: "Conv2D" | "Dense"): [Tensor, Tensor] | null {
  const c = layer.getConfig();
  if (layer.getClassName() !== className || c["activation"] !== "relu" || c["useBias"] === false) return null;
  if (className === "Conv2D"
    && !(c["padding"] === "valid" && c["dataFormat"] === "channelsLast" && all(c["strides"], 1) && all(c["dilationRate"], 1))) return null;
  const [w, b] = layer.weights.map((v) => v.read());
  return [w!, b!];
}

/** Window size of a square, non-overlapping 'valid' max-pooling layer, else null. */
function poolSize(layer: Layer | undefined): number | null {
  if (layer?.getClassName() !== "MaxPooling2D") return null;
  const c = layer.getConfig();
  const [size, ...others] = [...(c["poolSize"] as number[]), ...(c["strides"] as number[])];
  return c["padding"] === "valid" && c["dataFormat"] === "channelsLast" && others.every((n) => n === size) ? size! : null;
}

/**
 * Runs `model` to the logits under its final softmax. Keras on TensorFlow
 * computes the loss from these (via the softmax op's input), which stays
 * exact where a probability underflows.
 */
export function logits(model: LayersModel, x: Tensor, training: boolean): Tensor {
  const layers = model.layers;
  const last = layers[layers.length - 1];
  const softmaxOutput = last && last.getClassName() === "Dense" && last.getConfig()["activation"] === "softmax";
  if (!softmaxOutput) {
    const found = last ? `${last.name} (${last.getClassName()}${last.getConfig()["activation"] ? `, activation ${last.getConfig()["activation"]}` : ""})` : "no layer at all";
    throw new UserError(
      `The model's last layer is ${found}. Training and evaluation here need the output layer to be Dense with activation "softmax" `
        + '(the loss is categorical cross-entropy, computed from its logits): end the model with model.add(layers.dense({ units: 10, activation: "softmax" })).',
    );
  }
  let h = x;
  for (let i = 0; i < layers.length - 1; i++) {
    const layer = layers[i]!;
    const conv = reluWeights(layer, "Conv2D");
    const fc = reluWeights(layer, "Dense");
    const pool = poolSize(layer);
    const nextPool = poolSize(layers[i + 1]);
    if (conv && nextPool !== null) {
      // maxpool(relu(conv + b)) = relu(maxpool(conv) + b): adding a per-channel
      // constant and relu keep each window's maximum where it is, so the bias
      // and relu (and their gradients) run on a quarter of the values.
      h = relu(biasAdd(maxPool(conv2d(h, conv[0], null, h !== x), nextPool), conv[1]));
      i++;
    } else if (conv) {
      h = relu(conv2d(h, conv[0], conv[1], h !== x));
    } else if (fc && h.rank === 2) {
      h = dense(h, fc[0], fc[1], "relu");
    } else if (pool !== null) {
      h = maxPool(h, pool);
    } else {
      h = layer.apply(h, { training }) as Tensor;
    }
  }
  const [kernel, bias] = last.weights.map((w) => w.read());
  return bias === undefined ? tf.matMul(h as Tensor2D, kernel as Tensor2D) : dense(h, kernel!, bias, "linear");
}

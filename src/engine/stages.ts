/**
 * The layers the fast path knows, each as a stage: its forward pass and its
 * gradient written out on TensorFlow's ops (kernels.ts). Conv2D and Dense
 * (relu or linear, with or without bias), Conv2D with the max-pooling after
 * it as one stage, max-pooling, Flatten and seeded dropout. `planFor` turns a
 * model into steps; a layer that is none of these stays a tfjs-layers layer.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import { nativeOps, type NativeOps } from "./kernels";
import { dropoutMask } from "./random";
import type { Layer, Network } from "../core/network";
import { SeededDropout } from "./dropout";


/** A stage's output, and the tensors its gradient needs. */
export interface Forward {
  y: Tensor;
  saved: Tensor[];
}

/** The gradient by the stage's input (null where it was not asked for) and by each of its weights. */
export interface Backward {
  dx: Tensor | null;
  weightGradients: Tensor[];
}

export interface Stage {
  /** The layer whose weights (kernel, then bias) the stage uses; null for none. */
  readonly layer: Layer | null;
  forward(x: Tensor, weights: Tensor[], training: boolean): Forward;
  /** From dL/dy: dL/dx if `inputGradient`, and dL/dw for each of `weights`. */
  backward(dy: Tensor, saved: Tensor[], weights: Tensor[], inputGradient: boolean): Backward;
}

type Activation = "relu" | "linear";

/**
 * relu(conv(x, w) + b), 'valid', stride 1, NHWC; with `pool`, max-pooled.
 * maxpool(relu(conv + b)) = relu(maxpool(conv) + b): adding a per-channel
 * constant and relu keep each window's maximum where it is, so the bias and
 * relu (and their gradients) run on a quarter of the values.
 */
function convStage(ops: NativeOps, layer: Layer, activation: Activation, pool: number | null): Stage {
  const relu = activation === "relu";
  return {
    layer,
    forward(x, [w, b = null]) {
      if (pool === null) {
        const z = ops.conv(x, w!, b);
        const y = relu ? ops.relu(z) : z;
        return { y, saved: [x, y] };
      }
      const c = ops.conv(x, w!, null);
      const pooled = ops.maxPool(c, pool);
      const z = b === null ? pooled.y : ops.biasAdd(pooled.y, b);
      const y = relu ? ops.relu(z) : z;
      return { y, saved: [x, y, c, pooled.y, ...(pooled.workspace === null ? [] : [pooled.workspace])] };
    },
    backward(dy, [x, y, c, p, workspace = null], [w, b], inputGradient) {
      const g = relu ? ops.reluGrad(dy, y!) : dy;
      const dc = pool === null ? g : ops.maxPoolGrad(c!, { y: p!, workspace }, g, pool);
      return {
        dx: inputGradient ? ops.convInputGrad(x!.shape, w!, dc) : null,
        weightGradients: [ops.convFilterGrad(x!, w!.shape, dc), ...(b === undefined ? [] : [ops.biasGrad(g)])],
      };
    },
  };
}

/** relu(x·w + b) on a batch of vectors; linear for the output layer's logits. */
function denseStage(ops: NativeOps, layer: Layer, activation: Activation): Stage {
  const relu = activation === "relu";
  return {
    layer,
    forward(x, [w, b]) {
      const product = ops.matMul(x, w!, false, false);
      const z = b === undefined ? product : ops.biasAdd(product, b);
      const y = relu ? ops.relu(z) : z;
      return { y, saved: [x, y] };
    },
    backward(dy, [x, y], [w, b], inputGradient) {
      const g = relu ? ops.reluGrad(dy, y!) : dy;
      return {
        dx: inputGradient ? ops.matMul(g, w!, false, true) : null,
        weightGradients: [ops.matMul(x!, g, true, false), ...(b === undefined ? [] : [ops.biasGrad(g)])],
      };
    },
  };
}

function poolStage(ops: NativeOps, size: number): Stage {
  return {
    layer: null,
    forward(x) {
      const { y, workspace } = ops.maxPool(x, size);
      return { y, saved: [x, y, ...(workspace === null ? [] : [workspace])] };
    },
    backward(dy, [x, y, workspace = null], _, inputGradient) {
      return { dx: inputGradient ? ops.maxPoolGrad(x!, { y: y!, workspace }, dy, size) : null, weightGradients: [] };
    },
  };
}

function flattenStage(ops: NativeOps): Stage {
  return {
    layer: null,
    forward(x) {
      return { y: ops.reshape(x, [x.shape[0]!, -1]), saved: [x] };
    },
    backward(dy, [x], _, inputGradient) {
      return { dx: inputGradient ? ops.reshape(dy, x!.shape) : null, weightGradients: [] };
    },
  };
}

/** Inverted dropout; the layer draws each step's mask from its seed. */
function dropoutStage(layer: SeededDropout): Stage {
  return {
    layer: null,
    forward(x, _, training) {
      if (!training) return { y: x, saved: [] };
      const mask = dropoutMask(x.shape, layer.rate, layer.nextMaskSeed());
      return { y: tf.mul(x, mask), saved: [mask] };
    },
    backward(dy, [mask], _, inputGradient) {
      return { dx: inputGradient ? tf.mul(dy, mask!) : null, weightGradients: [] };
    },
  };
}

/** A step of the forward pass: a stage, or a layer tfjs-layers runs. */
export type Step = { stage: Stage; layer?: undefined } | { stage?: undefined; layer: Layer };

export interface Plan {
  /** The model's layers when the plan was made. */
  layers: Layer[];
  /** Every layer but the output, then (on TensorFlow) the output's logits as a linear Dense stage. */
  steps: Step[];
  /** The Dense softmax layer whose logits the loss takes. */
  output: Layer;
  /** Whether the last step is the output's logits (on TensorFlow); else the caller computes them from `output`. */
  outputIsStage: boolean;
  /** Whether every step is a stage: the training step then needs no gradient tape. */
  native: boolean;
  /** Per step: whether some step before it has weights, so its input needs a gradient. */
  inputGradient: boolean[];
}

const all = (value: unknown, expected: number) => (Array.isArray(value) ? value.every((v) => v === expected) : value === expected);

/** The activation of a Conv2D or Dense layer this module runs (relu or linear), else null. */
function knownActivation(layer: Layer, className: "Conv2D" | "Dense"): Activation | null {
  if (layer.getClassName() !== className) return null;
  const c = layer.getConfig();
  const activation = c["activation"];
  if (activation !== "relu" && activation !== "linear") return null;
  // Constraints act after the update (training applies them), so a constrained layer is still a stage.
  if (c["kernelRegularizer"] || c["biasRegularizer"] || c["activityRegularizer"]) return null;
  if (className === "Dense") return inputRank(layer) === 2 ? activation : null;
  return c["padding"] === "valid" && c["dataFormat"] === "channelsLast" && all(c["strides"], 1) && all(c["dilationRate"], 1) ? activation : null;
}

/** The shape of the layer's input as built (null for the batch), or null if it has no single one. */
function inputShape(layer: Layer): (number | null)[] | null {
  try {
    const input = layer.input;
    return Array.isArray(input) ? null : input.shape;
  } catch {
    return null;
  }
}

const inputRank = (layer: Layer) => inputShape(layer)?.length ?? null;

/** Window size of a square, non-overlapping 'valid' max-pooling layer, else null. */
function poolSize(layer: Layer | undefined): number | null {
  if (layer?.getClassName() !== "MaxPooling2D") return null;
  const c = layer.getConfig();
  const [size, ...others] = [...(c["poolSize"] as number[]), ...(c["strides"] as number[])];
  return c["padding"] === "valid" && c["dataFormat"] === "channelsLast" && others.every((n) => n === size) ? size! : null;
}

/** Refuses a model whose last layer is not Dense with softmax, naming the fix. */
function checkOutput(last: Layer | undefined): Layer {
  if (last && last.getClassName() === "Dense" && last.getConfig()["activation"] === "softmax") {
    const rank = inputRank(last);
    if (rank === null || rank === 2) return last;
    throw new UserError(
      `The output layer ${last.name} gets inputs of shape ${JSON.stringify(inputShape(last))}, `
        + "not one vector per example: add model.add(layers.flatten()) before the first Dense layer.",
    );
  }
  const activation = last?.getConfig()["activation"];
  const found = last ? `${last.name} (${last.getClassName()}${activation ? `, activation ${activation}` : ""})` : "no layer at all";
  throw new UserError(
    `The model's last layer is ${found}. Training and evaluation here need the output layer to be Dense with activation "softmax" `
      + '(the loss is categorical cross-entropy, computed from its logits): end the model with model.add(layers.dense({ units: 10, activation: "softmax" })).',
  );
}

function stepsFor(ops: NativeOps, layers: Layer[]): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const conv = knownActivation(layer, "Conv2D");
    const dense = knownActivation(layer, "Dense");
    const pool = poolSize(layer);
    const flatten = layer.getClassName() === "Flatten" && [undefined, "channelsLast"].includes(layer.getConfig()["dataFormat"] as string | undefined);
    if (conv !== null) {
      const next = poolSize(layers[i + 1]);
      steps.push({ stage: convStage(ops, layer, conv, next) });
      if (next !== null) i++;
    } else if (dense !== null) steps.push({ stage: denseStage(ops, layer, dense) });
    else if (pool !== null) steps.push({ stage: poolStage(ops, pool) });
    else if (flatten) steps.push({ stage: flattenStage(ops) });
    else if (layer instanceof SeededDropout) {
      if (layer.rate > 0) steps.push({ stage: dropoutStage(layer) });
    } else steps.push({ layer });
  }
  return steps;
}

const plans = new WeakMap<Network, Plan>();

/** How the model runs: its steps, made once per model (and again if its layers change). */
export function planFor(model: Network): Plan {
  const layers = model.layers;
  const cached = plans.get(model);
  if (cached && cached.layers.length === layers.length && cached.layers.every((l, i) => l === layers[i])) return cached;
  const output = checkOutput(layers[layers.length - 1]);
  const hidden = layers.slice(0, -1);
  const ops = nativeOps();
  const steps: Step[] = ops === null
    ? hidden.map((layer) => ({ layer }))
    : [...stepsFor(ops, hidden), { stage: denseStage(ops, output, "linear") }];
  const hasWeights = steps.map((step) => (step.stage ? step.stage.layer : step.layer)?.weights.length ?? 0);
  const plan: Plan = {
    layers: [...layers],
    steps,
    output,
    outputIsStage: ops !== null,
    native: ops !== null && steps.every((step) => step.stage !== undefined),
    inputGradient: steps.map((_, i) => hasWeights.slice(0, i).some((n) => n > 0)),
  };
  plans.set(model, plan);
  return plan;
}

/** The tensors of a stage's weights (kernel, then bias), as its layer holds them now. */
export function weightsOf(stage: Stage): Tensor[] {
  return stage.layer?.weights.map((w) => w.read()) ?? [];
}

/**
 * The layers the fast path knows, each as a stage: its forward pass and its
 * gradient written out on TensorFlow's ops (kernels.ts, activations.ts).
 * Conv2D of any padding, strides and dilation; Dense; every activation, as a
 * layer argument or a layer of its own; max- and average-pooling of any
 * window, and their global forms; batch normalization; seeded dropout,
 * spatial or not; Flatten and Reshape. A Conv2D followed by max-pooling is one
 * stage. `planFor` turns a model into steps; a layer that is none of these
 * stays a tfjs-layers layer, run (and differentiated) as tfjs-layers runs it.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import type { Layer, Network } from "../core/network";
import { activationLayer, activationOfLayer, LINEAR, type Activation } from "./activations";
import { nativeOps, type ConvGeometry, type NativeOps, type Padding, type PoolGeometry } from "./kernels";
import { headFor, lossNamed, type Head } from "./losses";
import { dropoutMask, SeedSequence } from "./random";
import { SeededDropout } from "./dropout";
import { isRandomImageLayer } from "./randomLayers";

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
  /** The layer whose trainable weights (kernel, then bias; gamma, then beta) the stage uses; null for none. */
  readonly layer: Layer | null;
  forward(x: Tensor, weights: Tensor[], training: boolean): Forward;
  /** From dL/dy: dL/dx if `inputGradient`, and dL/dw for each of `weights`. */
  backward(dy: Tensor, saved: Tensor[], weights: Tensor[], inputGradient: boolean): Backward;
}

const pair = (value: unknown, fallback: number): [number, number] => {
  if (value == null) return [fallback, fallback];
  return Array.isArray(value)
    ? [Number(value[0]), Number(value[value.length > 1 ? 1 : 0])]
    : [Number(value), Number(value)];
};

/**
 * relu(conv(x, w) + b), NHWC; with `pool`, max-pooled.
 * maxpool(f(conv + b)) = f(maxpool(conv) + b) for a non-decreasing f: adding
 * a per-channel constant and f keep each window's maximum where it is, so the
 * bias and activation (and their gradients) run on the pooled values only.
 */
function convStage(ops: NativeOps, layer: Layer, act: Activation, g: ConvGeometry, pool: PoolGeometry | null): Stage {
  const keepZ = (z: Tensor) => (act.readsInput ? [z] : []);
  return {
    layer,
    forward(x, [w, b = null]) {
      if (pool === null) {
        // relu with a bias: one op where oneDNN adds both while writing the output
        if (act.name === "relu" && b !== null) {
          const y = ops.convRelu(x, w!, b, g);
          return { y, saved: [x, y] };
        }
        const z = ops.conv(x, w!, b, g);
        const y = act.forward(z);
        return { y, saved: [x, y, ...keepZ(z)] };
      }
      const c = ops.conv(x, w!, null, g);
      const pooled = ops.maxPool(c, pool);
      const z = b === null ? pooled.y : ops.biasAdd(pooled.y, b);
      const y = act.forward(z);
      return { y, saved: [x, y, c, pooled.y, ...keepZ(z), ...(pooled.workspace === null ? [] : [pooled.workspace])] };
    },
    backward(dy, saved, [w, b], inputGradient) {
      const [x, y] = saved as [Tensor, Tensor];
      const rest = saved.slice(pool === null ? 2 : 4);
      const z = act.readsInput ? rest.shift()! : null;
      const g2 = act.backward(dy, z, y);
      const dc =
        pool === null ? g2 : ops.maxPoolGrad(saved[2]!, { y: saved[3]!, workspace: rest.shift() ?? null }, g2, pool);
      return {
        dx: inputGradient ? ops.convInputGrad(x.shape, w!, dc, g) : null,
        weightGradients: [ops.convFilterGrad(x, w!.shape, dc, g), ...(b === undefined ? [] : [ops.biasGrad(g2)])],
      };
    },
  };
}

/** act(x·w + b) on a batch of vectors. */
function denseStage(ops: NativeOps, layer: Layer, act: Activation): Stage {
  return {
    layer,
    forward(x, [w, b]) {
      const product = ops.matMul(x, w!, false, false);
      const z = b === undefined ? product : ops.biasAdd(product, b);
      const y = act.forward(z);
      return { y, saved: [x, y, ...(act.readsInput ? [z] : [])] };
    },
    backward(dy, [x, y, z = null], [w, b], inputGradient) {
      const g = act.backward(dy, z, y!);
      return {
        dx: inputGradient ? ops.matMul(g, w!, false, true) : null,
        weightGradients: [ops.matMul(x!, g, true, false), ...(b === undefined ? [] : [ops.biasGrad(g)])],
      };
    },
  };
}

/** An activation layer (Activation, ReLU, LeakyReLU, ELU, Softmax). */
function activationStage(act: Activation): Stage {
  return {
    layer: null,
    forward(z) {
      const y = act.forward(z);
      return { y, saved: [y, ...(act.readsInput ? [z] : [])] };
    },
    backward(dy, [y, z = null], _, inputGradient) {
      return { dx: inputGradient ? act.backward(dy, z, y!) : null, weightGradients: [] };
    },
  };
}

/** The window a global pooling uses: the whole image. */
const wholeImage = (x: Tensor): PoolGeometry => ({
  size: [x.shape[1]!, x.shape[2]!],
  strides: [x.shape[1]!, x.shape[2]!],
  padding: "valid",
});

/** Max- or average-pooling; `global` pools the whole image down to one vector per example. */
function poolStage(ops: NativeOps, kind: "max" | "avg", window: PoolGeometry | null): Stage {
  const geometry = (x: Tensor) => window ?? wholeImage(x);
  const flat = (t: Tensor) => (window === null ? ops.reshape(t, [t.shape[0]!, t.shape[3]!]) : t);
  const unflat = (dy: Tensor, x: Tensor) => (window === null ? ops.reshape(dy, [x.shape[0]!, 1, 1, x.shape[3]!]) : dy);
  if (kind === "avg") {
    return {
      layer: null,
      forward(x) {
        return { y: flat(ops.avgPool(x, geometry(x))), saved: [x] };
      },
      backward(dy, [x], _, inputGradient) {
        return {
          dx: inputGradient ? ops.avgPoolGrad(x!.shape, unflat(dy, x!), geometry(x!)) : null,
          weightGradients: [],
        };
      },
    };
  }
  return {
    layer: null,
    forward(x) {
      const { y, workspace } = ops.maxPool(x, geometry(x));
      return { y: flat(y), saved: [x, y, ...(workspace === null ? [] : [workspace])] };
    },
    backward(dy, [x, y, workspace = null], _, inputGradient) {
      return {
        dx: inputGradient ? ops.maxPoolGrad(x!, { y: y!, workspace }, unflat(dy, x!), geometry(x!)) : null,
        weightGradients: [],
      };
    },
  };
}

/** Flatten (`target` null) or Reshape to the layer's target shape. */
function reshapeStage(ops: NativeOps, target: number[] | null): Stage {
  return {
    layer: null,
    forward(x) {
      return { y: ops.reshape(x, [x.shape[0]!, ...(target ?? [-1])]), saved: [x] };
    },
    backward(dy, [x], _, inputGradient) {
      return { dx: inputGradient ? ops.reshape(dy, x!.shape) : null, weightGradients: [] };
    },
  };
}

/** Inverted dropout; the layer draws each step's mask from its seed (one per channel when spatial). */
/** What a dropout stage draws its masks from: a rate, the mask's shape for an input, and call n's seed. */
interface MaskSource {
  rate: number;
  maskShape(shape: number[]): number[];
  nextMaskSeed(): [number, number];
}

const tfjsDropoutSeeds = new WeakMap<Layer, SeedSequence>();

/**
 * tfjs's own Dropout (`tf.layers.dropout`) as a mask source, when it has no noiseShape: its masks follow its seed as
 * SeededDropout's do, (seed, n) for call n (tfjs's own call repeats one mask), or are random without one.
 */
function tfjsDropout(layer: Layer): MaskSource | null {
  const c = layer.getConfig();
  if (layer.getClassName() !== "Dropout" || layer instanceof SeededDropout || c["noiseShape"] != null) return null;
  let seeds = tfjsDropoutSeeds.get(layer);
  if (seeds === undefined) tfjsDropoutSeeds.set(layer, (seeds = new SeedSequence(seedOf(layer))));
  const sequence = seeds;
  return { rate: Number(c["rate"]), maskShape: (shape) => shape, nextMaskSeed: () => sequence.next() };
}

const seedOf = (layer: Layer) => {
  const seed = layer.getConfig()["seed"];
  return typeof seed === "number" ? seed : undefined;
};

function dropoutStage(layer: MaskSource): Stage {
  return {
    layer: null,
    forward(x, _, training) {
      if (!training) return { y: x, saved: [] };
      const mask = dropoutMask(layer.maskShape(x.shape), layer.rate, () => layer.nextMaskSeed());
      return { y: tf.mul(x, mask), saved: [mask] };
    },
    backward(dy, [mask], _, inputGradient) {
      return { dx: inputGradient ? tf.mul(dy, mask!) : null, weightGradients: [] };
    },
  };
}

/**
 * A random image layer (randomLayers.ts): its draw in training, the images as they are in inference. It has no
 * gradient: planFor keeps it before every layer with weights.
 */
function augmentationStage(layer: { augment(x: Tensor): Tensor }): Stage {
  return {
    layer: null,
    forward(x, _, training) {
      return { y: training ? layer.augment(x) : x, saved: [] };
    },
    backward() {
      return { dx: null, weightGradients: [] };
    },
  };
}

type BatchNormLayer = Layer & {
  momentum: number;
  epsilon: number;
  scale: boolean;
  center: boolean;
  movingMean: { read(): Tensor; write(t: Tensor): void };
  movingVariance: { read(): Tensor; write(t: Tensor): void };
};

/**
 * Batch normalization over the last axis, of images or vectors (seen as 1×1
 * images). Training normalizes by the batch's statistics and moves the
 * moving mean and variance towards them with Keras's momentum; inference uses
 * the moving ones.
 */
function batchNormStage(ops: NativeOps, layer: BatchNormLayer): Stage {
  const { epsilon, momentum, scale, center } = layer;
  const asImages = (x: Tensor) => (x.rank === 4 ? x : ops.reshape(x, [x.shape[0]!, 1, 1, x.shape[x.rank - 1]!]));
  const back = (t: Tensor, like: Tensor) => (like.rank === 4 ? t : ops.reshape(t, like.shape));
  const gammaBeta = (weights: Tensor[], channels: number) => {
    const gamma = scale ? weights[0]! : tf.ones([channels]);
    const beta = center ? weights[scale ? 1 : 0]! : tf.zeros([channels]);
    return [gamma, beta] as const;
  };
  const moveTowards = (variable: BatchNormLayer["movingMean"], value: Tensor) =>
    variable.write(tf.tidy(() => tf.add(tf.mul(variable.read(), momentum), tf.mul(value, 1 - momentum))));
  return {
    layer,
    forward(x, weights, training) {
      const images = asImages(x);
      const [gamma, beta] = gammaBeta(weights, images.shape[3]!);
      const kernel = ops.batchNorm(images);
      if (!training)
        return {
          y: back(
            kernel.inference(images, gamma, beta, layer.movingMean.read(), layer.movingVariance.read(), epsilon),
            x,
          ),
          saved: [],
        };
      const { y, mean, variance, reserve } = kernel.training(images, gamma, beta, epsilon);
      moveTowards(layer.movingMean, mean);
      moveTowards(layer.movingVariance, variance);
      return { y: back(y, x), saved: [images, ...reserve] };
    },
    backward(dy, [images, ...reserve], weights, inputGradient) {
      const [gamma] = gammaBeta(weights, images!.shape[3]!);
      const [dx, dGamma, dBeta] = ops.batchNorm(images!).backward(asImages(dy), images!, gamma, reserve, epsilon);
      return {
        dx: inputGradient ? back(dx!, dy) : null,
        weightGradients: [...(scale ? [dGamma!] : []), ...(center ? [dBeta!] : [])],
      };
    },
  };
}

/** A step of the forward pass: a stage, or a layer tfjs-layers runs. */
export type Step = { stage: Stage; layer?: undefined } | { stage?: undefined; layer: Layer };

export interface Plan {
  /** The model's layers and loss when the plan was made. */
  layers: Layer[];
  loss: unknown;
  steps: Step[];
  /** The loss, and whether it takes the logits of the output's activation (left out of the last step) or the output. */
  head: Head;
  /** Whether every step is a stage: the training step then needs no gradient tape. */
  native: boolean;
  /** The layers tfjs-layers runs, slower, because no stage knows them. */
  slow: Layer[];
  /** tfjs's own dropout layers without a seed: their masks cannot repeat from run to run. */
  unseeded: Layer[];
  /** Per step: whether some step before it has weights, so its input needs a gradient. */
  inputGradient: boolean[];
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
const channelsLast = (c: Record<string, unknown>) =>
  c["dataFormat"] === undefined || c["dataFormat"] === null || c["dataFormat"] === "channelsLast";
const isPadding = (p: unknown): p is Padding => p === "valid" || p === "same";
/** Regularizers on the weights are added in step.ts; one on the output needs the tape. */
const hasActivityRegularizer = (c: Record<string, unknown>) => Boolean(c["activityRegularizer"]);

function convGeometry(layer: Layer): ConvGeometry | null {
  const c = layer.getConfig();
  if (layer.getClassName() !== "Conv2D" || !channelsLast(c) || !isPadding(c["padding"]) || hasActivityRegularizer(c))
    return null;
  return { strides: pair(c["strides"], 1), dilations: pair(c["dilationRate"], 1), padding: c["padding"] };
}

/** A MaxPooling2D or AveragePooling2D layer's kind and window, else null. */
function poolingOf(layer: Layer | undefined): { kind: "max" | "avg"; window: PoolGeometry } | null {
  const kind =
    layer?.getClassName() === "MaxPooling2D" ? "max" : layer?.getClassName() === "AveragePooling2D" ? "avg" : null;
  if (kind === null) return null;
  const c = layer!.getConfig();
  if (!channelsLast(c) || !isPadding(c["padding"])) return null;
  const size = pair(c["poolSize"], 2);
  return {
    kind,
    window: { size, strides: c["strides"] == null ? size : pair(c["strides"], 1), padding: c["padding"] },
  };
}

/**
 * The stage for one layer, the next layer it also covers (a max-pooling after a Conv2D), or null where no stage knows
 * it.
 */
function stageOf(
  ops: NativeOps,
  layer: Layer,
  next: Layer | undefined,
  activation: Activation | null,
): { stage: Stage; covers: number; rate?: number } | null {
  const c = layer.getConfig();
  const className = layer.getClassName();
  const conv = convGeometry(layer);
  if (conv !== null) {
    const act = activation ?? activationOfLayer(ops, layer);
    if (act === null) return null;
    const pool = poolingOf(next);
    const fused = pool?.kind === "max" && act.monotone ? pool.window : null;
    return { stage: convStage(ops, layer, act, conv, fused), covers: fused === null ? 1 : 2 };
  }
  if (className === "Dense") {
    const act = activation ?? activationOfLayer(ops, layer);
    return inputRank(layer) !== 2 || hasActivityRegularizer(c) || act === null
      ? null
      : { stage: denseStage(ops, layer, act), covers: 1 };
  }
  const pooling = poolingOf(layer);
  if (pooling !== null) return { stage: poolStage(ops, pooling.kind, pooling.window), covers: 1 };
  if (
    (className === "GlobalAveragePooling2D" || className === "GlobalMaxPooling2D") &&
    channelsLast(c) &&
    !c["keepdims"]
  ) {
    return { stage: poolStage(ops, className === "GlobalMaxPooling2D" ? "max" : "avg", null), covers: 1 };
  }
  if (className === "Flatten" && channelsLast(c)) return { stage: reshapeStage(ops, null), covers: 1 };
  if (className === "Reshape") return { stage: reshapeStage(ops, c["targetShape"] as number[]), covers: 1 };
  const dropout = layer instanceof SeededDropout ? layer : tfjsDropout(layer);
  if (dropout !== null) return { stage: dropoutStage(dropout), covers: 1, rate: dropout.rate };
  if (isRandomImageLayer(layer)) return { stage: augmentationStage(layer), covers: 1 };
  if (className === "BatchNormalization") {
    const rank = inputRank(layer);
    const axis = Array.isArray(c["axis"]) ? c["axis"] : [c["axis"]];
    const lastAxis = axis.length === 1 && (axis[0] === -1 || axis[0] === (rank ?? 0) - 1);
    return (rank === 2 || rank === 4) && lastAxis
      ? { stage: batchNormStage(ops, layer as BatchNormLayer), covers: 1 }
      : null;
  }
  const act = activation ?? activationLayer(ops, layer, inputRank(layer));
  return act === null ? null : { stage: activationStage(act), covers: 1 };
}

/**
 * The activation a model's output layer ends in ("softmax", …), and whether it is a layer of its own: where the
 * logits are (losses.ts's headFor takes them under softmax and sigmoid; forward.ts's logitsThrough stops there).
 */
export function outputActivation(layer: Layer): { name: string; ownLayer: boolean } | null {
  const c = layer.getConfig();
  const className = layer.getClassName();
  if (className === "Dense" || className === "Conv2D" || className === "Activation")
    return { name: String(c["activation"]), ownLayer: className === "Activation" };
  if (className === "Softmax") return { name: "softmax", ownLayer: true };
  return null;
}

/**
 * Refuses a random image layer after a layer with weights: the transform has
 * no gradient here, so the layers before it could not learn.
 */
function checkAugmentationFirst(layers: Layer[]): void {
  const weighted = layers.findIndex((layer) => layer.weights.length > 0);
  const late = layers.find((layer, i) => weighted >= 0 && i > weighted && isRandomImageLayer(layer));
  if (late !== undefined) {
    throw new UserError(
      `${late.name} (${late.getClassName()}) comes after ${layers[weighted]!.name}, a layer with weights. ` +
        "Augmentation layers change the input images: add them first, before any layer with weights, e.g. " +
        "model.add(layers.randomRotation({ factor: 0.05, inputShape: [28, 28, 1] })) as the first layer.",
    );
  }
}

/** Refuses a model whose output layer gets images, naming the fix. */
function checkOutput(layers: Layer[]): void {
  const last = layers[layers.length - 1];
  if (last === undefined) {
    throw new UserError(
      "The model has no layers: add some with model.add(…), ending with the output layer, e.g. " +
        'model.add(layers.dense({ units: 10, activation: "softmax" })).',
    );
  }
  const rank = inputRank(last);
  if (last.getClassName() === "Dense" && rank !== null && rank !== 2) {
    throw new UserError(
      `The output layer ${last.name} gets inputs of shape ${JSON.stringify(inputShape(last))}, ` +
        "not one vector per example: add model.add(layers.flatten()) before the first Dense layer.",
    );
  }
}

/** The model's steps: stages where a stage knows the layer, tfjs-layers' layers elsewhere, and the loss's head. */
function planSteps(
  ops: NativeOps | null,
  layers: Layer[],
  head: Head,
  ending: { name: string; ownLayer: boolean } | null,
): Step[] {
  if (ops === null) return layers.map((layer) => ({ layer }));
  // The loss takes the logits: the last layer's softmax (or sigmoid) is left to it.
  const takesLogits = head.input !== "output";
  const hidden = takesLogits && ending?.ownLayer ? layers.slice(0, -1) : layers;
  const steps: Step[] = [];
  for (let i = 0; i < hidden.length; i++) {
    const layer = hidden[i]!;
    const isLast = i === hidden.length - 1;
    const found = stageOf(ops, layer, hidden[i + 1], takesLogits && isLast && !ending?.ownLayer ? LINEAR : null);
    if (found === null) steps.push({ layer });
    else if (found.rate !== 0) steps.push({ stage: found.stage });
    i += (found?.covers ?? 1) - 1;
  }
  return steps;
}

const plans = new WeakMap<Network, Plan>();

/** How the model runs: its steps, made once per model (and again if its layers or loss change). */
export function planFor(model: Network): Plan {
  const layers = model.layers;
  const cached = plans.get(model);
  if (
    cached &&
    cached.loss === model.loss &&
    cached.layers.length === layers.length &&
    cached.layers.every((l, i) => l === layers[i])
  )
    return cached;
  checkOutput(layers);
  checkAugmentationFirst(layers);
  const ops = nativeOps();
  const ending = outputActivation(layers[layers.length - 1]!);
  // an uncompiled model is evaluated as the seed's (categorical cross-entropy)
  const loss = lossNamed(model.loss) ?? "categoricalCrossentropy";
  let head: Head = ops === null ? { loss, input: "output" } : headFor(loss, ending?.name ?? null);
  let steps = planSteps(ops, layers, head, ending);
  // an output layer that no stage knows applies its own activation: the loss then takes its output
  if (head.input !== "output" && !ending?.ownLayer && steps[steps.length - 1]!.stage === undefined) {
    head = { loss, input: "output" };
    steps = planSteps(ops, layers, head, ending);
  }
  const hasWeights = steps.map((step) => (step.stage ? step.stage.layer : step.layer)?.weights.length ?? 0);
  const plan: Plan = {
    layers: [...layers],
    loss: model.loss,
    steps,
    head,
    native: ops !== null && steps.every((step) => step.stage !== undefined),
    slow: ops === null ? [] : steps.flatMap((step) => (step.layer ? [step.layer] : [])),
    unseeded: layers.filter((l) => tfjsDropout(l) !== null && seedOf(l) === undefined),
    inputGradient: steps.map((_, i) => hasWeights.slice(0, i).some((n) => n > 0)),
  };
  plans.set(model, plan);
  return plan;
}

/** The tensors of a stage's trainable weights (kernel, then bias; gamma, then beta), as its layer holds them now. */
export function weightsOf(stage: Stage): Tensor[] {
  return stage.layer?.weights.filter((w) => w.trainable).map((w) => w.read()) ?? [];
}

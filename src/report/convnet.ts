/**
 * What a convolutional network learned, as pictures (those that TensorFlow.js's
 * "Visualizing Convnet Filters" example and Keras's guides show after a first
 * convnet): the first convolution's kernels, the activations of every convolution and
 * pooling layer for one digit, the input each filter responds to most (gradient
 * ascent), and where the network looked for its answer (Grad-CAM). Only tfjs's
 * public API: a functional `tf.model` over the trained layers, `layer.apply`,
 * `tf.grad`; so it works on any Sequential a student builds, trained on the fast
 * path or not. A model without what a picture needs gets a sentence instead.
 */
import type { SymbolicTensor, Tensor, Tensor4D } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import type { Layer, Network } from "../core/network";
import type { MnistData } from "../data/mnist";
import { logitsThrough } from "../engine";
import { confidentMistakes } from "./analysis";
import type { TestReport } from "./gallery";
import { blend, heat, tileGrid, type Rgb, type TileGrid } from "./images";

const CONVOLUTIONS = new Set(["Conv2D", "DepthwiseConv2D", "SeparableConv2D"]);
const POOLINGS = new Set(["MaxPooling2D", "AveragePooling2D"]);

const convolutions = (model: Network) => model.layers.filter((l) => CONVOLUTIONS.has(l.getClassName()));
const shapeText = (shape: Array<number | null>) => shape.slice(1).join("×");
const layerTitle = (layer: Layer) =>
  `${layer.name} (${layer.getClassName()}) ${shapeText(layer.outputShape as number[])}`;

/** Test image indices, checked against the test set's size. */
function checkIndices(name: string, data: MnistData, indices: number[]): void {
  const n = data.xTest.shape[0]!;
  const bad = indices.filter((i) => !Number.isInteger(i) || i < 0 || i >= n);
  if (bad.length > 0)
    throw new UserError(`${name}: test image indices are whole numbers from 0 to ${n - 1}; got ${bad.join(", ")}.`);
}

/** The sentence for a model without a convolution, naming the model and what to add. */
function noConvolution(model: Network, picture: string): string {
  return (
    `${model.name} has no convolution layer, so there are no ${picture} to show. ` +
    'Add one, e.g. model.add(layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu" })), and train again.'
  );
}

/** A convolution by name, or the first one; a wrong name is a UserError naming those there are. */
function convolution(model: Network, layerName?: string): Layer | null {
  const found = convolutions(model);
  if (layerName === undefined) return found[0] ?? null;
  const layer = found.find((l) => l.name === layerName);
  if (layer === undefined) {
    throw new UserError(
      `${model.name} has no convolution named "${layerName}"; its convolutions are ` +
        `${found.map((l) => `"${l.name}"`).join(", ") || "none"}.`,
    );
  }
  return layer;
}

export interface KernelTiles {
  layer: string;
  /** Each filter's kernel (kernel rows × cols), averaged over its input channels. */
  kernels: Float32Array[];
  rows: number;
  cols: number;
  /** The largest |weight| shown: the colour scale's ends. */
  limit: number;
}

/**
 * A convolution's kernels, one per filter, averaged over input channels (one channel for the first convolution of
 * MNIST).
 */
export function kernelTiles(model: Network, layerName?: string): KernelTiles | null {
  const layer = convolution(model, layerName);
  if (layer === null) return null;
  const kernel = layer.getWeights()[0]!; // [rows, cols, in, filters]
  const [rows, cols, , filters] = kernel.shape as [number, number, number, number];
  const averaged = tf.tidy(() => tf.mean(kernel, 2)); // [rows, cols, filters]
  const values = averaged.dataSync() as Float32Array;
  averaged.dispose();
  const kernels = Array.from({ length: filters }, (_, f) =>
    Float32Array.from({ length: rows * cols }, (_, i) => values[i * filters + f]!),
  );
  const limit = Math.max(...kernels.flatMap((k) => Array.from(k, Math.abs)));
  return { layer: layerTitle(layer), kernels, rows, cols, limit };
}

/**
 * The first convolution's filters (or `layerName`'s) as a grid of small images:
 * red positive weights, blue negative, zero the same light grey in every filter.
 */
export function filterGrid(model: Network, layerName?: string): TileGrid | string {
  const tiles = kernelTiles(model, layerName);
  if (tiles === null) return noConvolution(model, "filters");
  return tileGrid(
    tiles.kernels.map((k, f) => ({ values: k, caption: [String(f)] })),
    {
      rows: tiles.rows,
      cols: tiles.cols,
      columns: 16,
      scale: 16,
      palette: { diverging: tiles.limit },
      heading: `${tiles.layer}: red +, blue −, up to ${tiles.limit.toFixed(2)}`,
    },
    `${model.name}: the ${tiles.kernels.length} filters of ${tiles.layer.split(" ")[0]}, red positive and blue ` +
      `negative weights`,
  );
}

export interface LayerActivation {
  layer: Layer;
  /** [height, width, channels] */
  shape: [number, number, number];
  /** Channel-last values of one image. */
  values: Float32Array;
}

/**
 * The output of every convolution and pooling layer for one image ([1, h, w, c]), from a functional model over the
 * trained layers.
 */
export function layerActivations(model: Network, image: Tensor4D): LayerActivation[] {
  const layers = model.layers.filter((l) => CONVOLUTIONS.has(l.getClassName()) || POOLINGS.has(l.getClassName()));
  if (layers.length === 0) return [];
  const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.output as SymbolicTensor) });
  const outputs = [probe.predict(image)].flat() as Tensor[];
  return layers.map((layer, i) => {
    const values = outputs[i]!.dataSync() as Float32Array;
    const [, h, w, c] = outputs[i]!.shape as [number, number, number, number];
    outputs[i]!.dispose();
    return { layer, shape: [h, w, c], values };
  });
}

/** One channel of an activation, scaled to [0, 1] on its own range (a flat channel is black). */
function channel({ shape: [h, w, c], values }: LayerActivation, k: number): Float32Array {
  const out = Float32Array.from({ length: h * w }, (_, i) => values[i * c + k]!);
  let low = Infinity;
  let high = -Infinity;
  for (const v of out) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  return out.map((v) => (high > low ? (v - low) / (high - low) : 0));
}

/**
 * For test image `index`, what every convolution and pooling layer makes of it:
 * one grid per layer, a small image per channel (bright: strong activation),
 * headed by the layer's Keras name and output shape.
 */
export function featureMaps(
  model: Network,
  data: MnistData,
  index = 0,
  options: { channels?: number } = {},
): TileGrid[] | string {
  if (convolutions(model).length === 0) return noConvolution(model, "feature maps");
  checkIndices("featureMaps", data, [index]);
  const image = tf.tidy(() => data.xTest.slice(index, 1) as Tensor4D);
  const label = data.classNames[data.testLabels()[index]!];
  const activations = layerActivations(model, image);
  image.dispose();
  return activations.map((activation) => {
    const [h, w, c] = activation.shape;
    const shown = Math.min(c, options.channels ?? 32);
    const tiles = Array.from({ length: shown }, (_, k) => ({ values: channel(activation, k), caption: [String(k)] }));
    const scale = Math.max(2, Math.round(56 / Math.max(h, w)));
    const more = shown < c ? ` (first ${shown} of ${c} channels)` : "";
    return tileGrid(
      tiles,
      { rows: h, cols: w, columns: 16, scale, palette: { grey: 1 }, heading: `${layerTitle(activation.layer)}${more}` },
      `${model.name}: the ${c} feature maps of ${activation.layer.name} ` +
        `(${shapeText(activation.layer.outputShape as number[])}) for test image ${index}, labelled ${label}${more}`,
    );
  });
}

export interface FilterPatternOptions {
  /** How many filters, from the first (16). */
  count?: number;
  /** Gradient-ascent steps (40). */
  steps?: number;
  /** Step size on the normalised gradient (0.02, in pixel units of the rescaled images). */
  stepSize?: number;
  /** Seeds the starting noise. */
  seed?: number;
}

export interface FilterPatterns {
  layer: Layer;
  /** One input image per filter, [rows, cols] of its first channel. */
  patterns: Float32Array[];
  rows: number;
  cols: number;
  /** Each filter's mean response on its starting noise and on its pattern. */
  before: number[];
  after: number[];
}

/**
 * A convolution's response before its activation, as a function of the
 * model's input: a ReLU is flat at zero, where a filter that does not fire on
 * the starting noise would give gradient ascent nothing to follow. Other
 * convolution kinds answer with their output.
 */
function response(model: Network, layer: Layer): (x: Tensor) => Tensor {
  const upTo = (outputs: SymbolicTensor) => tf.model({ inputs: model.inputs, outputs });
  if (layer.getClassName() !== "Conv2D") {
    const output = upTo(layer.output as SymbolicTensor);
    return (x) => output.apply(x) as Tensor;
  }
  const input = layer.input as SymbolicTensor;
  const below = input === model.inputs[0] ? null : upTo(input);
  const { strides, padding, dilationRate } = layer.getConfig() as {
    strides: [number, number];
    padding: "valid" | "same";
    dilationRate: number | [number, number];
  };
  const [kernel, bias] = layer.getWeights();
  return (x) => {
    const y = tf.conv2d(
      (below === null ? x : below.apply(x)) as Tensor4D,
      kernel as Tensor4D,
      strides,
      padding,
      "NHWC",
      dilationRate,
    );
    return bias === undefined ? y : tf.add(y, bias);
  };
}

/**
 * The input that maximally activates each filter of convolution `layerName`,
 * found by gradient ascent on the input from seeded grey noise: every filter's
 * image in one batch, each step along the gradient of its own filter's mean
 * response (before the activation; normalised), kept within the images' value
 * range [0, 1].
 */
export function filterPatternData(
  model: Network,
  layerName?: string,
  options: FilterPatternOptions = {},
): FilterPatterns | null {
  const layer = convolution(model, layerName);
  if (layer === null) return null;
  const { count = 16, steps = 40, stepSize = 0.02, seed = 42 } = options;
  const filters = (layer.outputShape as number[])[3]!;
  const n = Math.min(count, filters);
  const [, rows, cols, depth] = model.inputs[0]!.shape as [null, number, number, number];
  const respond = response(model, layer);
  const mask = tf.tidy(() => tf.oneHot(tf.range(0, n, 1, "int32"), filters)); // image i ascends filter i
  // each image's mean response of its own filter
  // The image's mean brightness is held at 0.5: a filter's mean response would otherwise grow
  // most with a uniform field (by its kernel's sum), which shows nothing of what it detects.
  const centred = (x: Tensor) => tf.add(tf.sub(x, tf.mean(x, [1, 2, 3], true)), 0.5);
  const meanResponses = (x: Tensor) => tf.sum(tf.mul(tf.mean(respond(x), [1, 2]), mask), 1);
  const perFilter = (x: Tensor) => tf.tidy(() => Array.from(meanResponses(x).dataSync()));
  const ascend = tf.grad((x: Tensor) => tf.sum(meanResponses(centred(x))));
  let x = tf.tidy(() =>
    tf.clipByValue(tf.add(0.5, tf.randomNormal([n, rows, cols, depth], 0, 0.1, "float32", seed)), 0, 1),
  );
  const before = perFilter(x);
  for (let step = 0; step < steps; step++) {
    const next = tf.tidy(() => {
      const g = ascend(x);
      const norm = tf.add(tf.sqrt(tf.mean(tf.square(g), [1, 2, 3], true)), 1e-8);
      return tf.clipByValue(centred(tf.add(x, tf.mul(stepSize, tf.div(g, norm)))), 0, 1);
    });
    x.dispose();
    x = next;
  }
  const after = perFilter(x);
  const first = tf.tidy(() => x.slice([0, 0, 0, 0], [n, rows, cols, 1]));
  const values = first.dataSync() as Float32Array;
  [x, first, mask].forEach((t) => t.dispose());
  const patterns = Array.from({ length: n }, (_, i) => values.slice(i * rows * cols, (i + 1) * rows * cols));
  return { layer, patterns, rows, cols, before, after };
}

/**
 * An image's deviations from its mean, stretched to show its texture: 0.5 ± 0.15 per standard deviation, clipped to [0,
 * 1].
 */
function contrasted(image: Float32Array): Float32Array {
  const mean = image.reduce((a, b) => a + b, 0) / image.length;
  const sd = Math.sqrt(image.reduce((a, b) => a + (b - mean) ** 2, 0) / image.length) || 1;
  return image.map((v) => Math.min(Math.max(0.5 + (0.15 * (v - mean)) / sd, 0), 1));
}

/**
 * filterPatternData's images as a grid, each captioned with its filter; by default of the last convolution, whose
 * patterns are the richest.
 */
export function filterPatterns(
  model: Network,
  layerName?: string,
  options: FilterPatternOptions = {},
): TileGrid | string {
  const found = filterPatternData(model, layerName ?? convolutions(model).at(-1)?.name, options);
  if (found === null) return noConvolution(model, "filter patterns");
  const { layer, patterns, rows, cols } = found;
  return tileGrid(
    patterns.map((p, f) => ({ values: contrasted(p), caption: [String(f)] })),
    {
      rows,
      cols,
      columns: 8,
      scale: 3,
      palette: { grey: 1 },
      heading: `${layerTitle(layer)}: what each filter responds to most`,
    },
    `${model.name}: the input pattern that most activates each of the first ${patterns.length} filters of ` +
      `${layer.name}, found by gradient ascent`,
  );
}

/**
 * Grad-CAM (Selvaraju et al.): for each image, where the last convolution's
 * output matters to the score of `classes[i]` (by default the predicted class):
 * its channels weighted by the mean gradient of that class's logit, summed,
 * kept where positive, scaled to [0, 1] per image and resized to the input.
 * Returns [n, rows, cols] values. The logit is taken before the output layer's
 * softmax, whose gradient vanishes on a confident prediction.
 */
export function gradCamMaps(
  model: Network,
  images: Tensor4D,
  classes?: number[],
): { maps: Float32Array[]; classes: number[] } {
  const convs = convolutions(model);
  const last = convs[convs.length - 1];
  if (last === undefined) throw new UserError(noConvolution(model, "class activation maps"));
  const head = model.layers.slice(model.layers.indexOf(last) + 1);
  const logitsOf = (a: Tensor): Tensor => logitsThrough(head, a);
  const [, rows, cols] = images.shape;
  const toLast = tf.model({ inputs: model.inputs, outputs: last.output as SymbolicTensor });
  return tf.tidy(() => {
    const a = toLast.predict(images) as Tensor4D;
    const logits = logitsOf(a);
    const chosen = classes ?? Array.from(tf.argMax(logits, 1).dataSync());
    const pick = tf.oneHot(tf.tensor1d(chosen, "int32"), logits.shape[1]!);
    const grads = tf.grad((features: Tensor) => tf.sum(tf.mul(logitsOf(features), pick)))(a);
    const weights = tf.mean(grads, [1, 2], true); // [n, 1, 1, k]
    const cam = tf.relu(tf.sum(tf.mul(weights, a), 3, true)); // [n, h, w, 1]
    const peak = tf.add(tf.max(cam, [1, 2, 3], true), 1e-12);
    const scaled = tf.image.resizeBilinear(tf.div(cam, peak) as Tensor4D, [rows, cols]);
    const values = scaled.dataSync() as Float32Array;
    const maps = chosen.map((_, i) => values.slice(i * rows * cols, (i + 1) * rows * cols));
    return { maps, classes: chosen };
  });
}

/**
 * Grad-CAM heat maps laid over test digits, captioned with the true and the
 * predicted class: by default over the model's most confident mistakes (those
 * of mistakeGallery), or over the test images `indices`.
 */
export function classActivation(
  model: Network,
  data: MnistData,
  report: TestReport,
  options: { count?: number; indices?: number[] } = {},
): TileGrid | string {
  if (convolutions(model).length === 0) return noConvolution(model, "class activation maps");
  const labels = data.testLabels();
  const classes = report.classNames.length;
  const indices =
    options.indices ?? confidentMistakes(report.probabilities, classes, labels, options.count ?? 6).map((m) => m.index);
  checkIndices("classActivation", data, indices);
  if (indices.length === 0)
    return `${model.name} made no mistakes on the test set: no class activation maps of mistakes to show.`;
  const images = tf.tidy(() => tf.gather(data.xTest, indices) as Tensor4D);
  const { maps, classes: predicted } = gradCamMaps(model, images);
  const pixels = images.dataSync() as Float32Array;
  images.dispose();
  const size = data.rows * data.cols;
  const tiles = indices.map((index, i) => ({
    colours: Array.from(maps[i]!, (v, p): Rgb => {
      const g = Math.round(Math.min(Math.max(pixels[i * size + p]! / data.pixelMax, 0), 1) * 255);
      return blend([g, g, g], heat(v), 0.5);
    }),
    caption: [`true ${report.classNames[labels[index]!]}`, `predicted ${report.classNames[predicted[i]!]}`],
  }));
  return tileGrid(
    tiles,
    {
      rows: data.rows,
      cols: data.cols,
      columns: 6,
      scale: 4,
      heading: "Grad-CAM: where the last convolution looked (red: most)",
    },
    `${model.name}: Grad-CAM heat maps over ${tiles.length} test digits ` +
      `(${tiles.map((t) => t.caption.join(" ")).join("; ")})`,
  );
}

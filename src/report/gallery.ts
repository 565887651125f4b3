/**
 * The notebook's pictures of the data: a grid of training examples with
 * their labels, one training image as augmentation changes it, and a
 * model's most confident mistakes on the test set.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import type { Network } from "../core/network";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import { isRandomImageLayer } from "../engine";
import { ImageFlow } from "../training/generator";
import { confidentMistakes, confusionMatrix, argMaxRows, predictProbabilities } from "./analysis";
import type { MnistData } from "../data/mnist";
import { tileGrid, type TileGrid } from "./images";

function pixelsOf(images: Float32Array | Int32Array | Uint8Array, index: number, size: number): ArrayLike<number> {
  return images.subarray(index * size, (index + 1) * size);
}

/** The first `count` training images, each captioned with its class. */
export function sampleGrid(data: MnistData, count = 24, columns = 8): TileGrid {
  const n = Math.min(count, data.xTrain.shape[0] ?? 0);
  const size = data.rows * data.cols;
  const first = data.xTrain.slice(0, n);
  const pixels = first.dataSync() as Float32Array;
  first.dispose();
  const labels = data.trainLabels();
  const tiles = Array.from({ length: n }, (_, i) => ({
    values: pixelsOf(pixels, i, size),
    caption: [data.classNames[labels[i]!]!],
  }));
  return tileGrid(
    tiles,
    { rows: data.rows, cols: data.cols, columns, palette: { grey: data.pixelMax } },
    `the first ${n} training images`,
  );
}

/**
 * Training image `index` as it is, then `count` times as training sees it:
 * through the model's augmentation layers (the random layers it starts with),
 * or a datagen.flow(…)'s transforms. Each copy has draws of its own.
 */
export function augmentedGrid(
  source: Network | ImageFlow,
  data: MnistData,
  index = 0,
  count = 15,
  columns = 8,
): TileGrid {
  const augment = augmentationOf(source);
  const size = data.rows * data.cols;
  const pixels = tf.tidy(() => {
    const image = data.xTrain.slice(index, 1);
    return tf.concat([image, augment(tf.tile(image, [count, 1, 1, 1]))]).dataSync() as Float32Array;
  });
  const tiles = Array.from({ length: count + 1 }, (_, i) => ({
    values: pixelsOf(pixels, i, size),
    caption: [i === 0 ? "as is" : `draw ${i}`],
  }));
  return tileGrid(
    tiles,
    { rows: data.rows, cols: data.cols, columns, palette: { grey: data.pixelMax } },
    `training image ${index} as it is, then ${count} times augmented`,
  );
}

function augmentationOf(source: Network | ImageFlow): (x: Tensor) => Tensor {
  if (source instanceof ImageFlow) return source.augment;
  const first = source.layers.findIndex((layer) => !isRandomImageLayer(layer));
  const leading = source.layers.slice(0, first < 0 ? source.layers.length : first);
  if (leading.length === 0) {
    throw new UserError(
      `augmentedGrid: ${source.name} does not start with augmentation layers; add them first, e.g. ` +
        `model.add(layers.randomRotation({ factor: 0.05, inputShape: [28, 28, 1] })), or pass a datagen.flow(…).`,
    );
  }
  return (x) => leading.reduce((h, layer) => layer.apply(h, { training: true }) as Tensor, x);
}

export interface TestReport {
  /** matrix[true][predicted] on the test set. */
  matrix: number[][];
  classNames: string[];
  probabilities: Float32Array;
}

/** The model's predictions on the test set, as a confusion matrix and class probabilities. */
export function testReport(model: Network, data: MnistData): TestReport {
  const { values, classes } = predictProbabilities(model, data.xTest);
  return {
    matrix: confusionMatrix(data.testLabels(), argMaxRows(values, classes), classes),
    classNames: data.classNames,
    probabilities: values,
  };
}

/** The `count` test images the model got wrong most confidently: true class, prediction and its probability. */
export function mistakeGallery(data: MnistData, report: TestReport, count = 12, columns = 6): TileGrid {
  const classes = report.classNames.length;
  const mistakes = confidentMistakes(report.probabilities, classes, data.testLabels(), count);
  const size = data.rows * data.cols;
  const palette = { grey: data.pixelMax };
  if (mistakes.length === 0)
    return tileGrid(
      [{ values: new Float32Array(size), caption: ["no mistakes"] }],
      { rows: data.rows, cols: data.cols, palette },
      "no mistakes on the test set",
    );
  // Only the mistaken images are copied out of the test tensor.
  const chosen = tf.tidy(() =>
    tf.gather(
      data.xTest,
      mistakes.map((m) => m.index),
    ),
  );
  const pixels = chosen.dataSync() as Float32Array;
  chosen.dispose();
  const tiles = mistakes.map((m, i) => ({
    values: pixelsOf(pixels, i, size),
    caption: [
      `true ${report.classNames[m.label]}`,
      `predicted ${report.classNames[m.predicted]}`,
      `${Math.round(m.confidence * 100)} %`,
    ],
  }));
  return tileGrid(
    tiles,
    { rows: data.rows, cols: data.cols, columns, palette },
    `the ${tiles.length} most confident mistakes`,
  );
}

/**
 * The notebook's pictures of the data: a grid of training examples with
 * their labels, and a model's most confident mistakes on the test set.
 */
import type { Network } from "../core/network";
import { tf } from "../core/backend";
import { confidentMistakes, confusionMatrix, argMaxRows, predictProbabilities } from "./analysis";
import type { MnistData } from "../data/mnist";
import { tileGrid, type PngImage } from "./images";

function pixelsOf(images: Float32Array | Int32Array | Uint8Array, index: number, size: number): ArrayLike<number> {
  return images.subarray(index * size, (index + 1) * size);
}

/** The first `count` training images, each captioned with its class. */
export function sampleGrid(data: MnistData, count = 24, columns = 8): PngImage {
  const n = Math.min(count, data.xTrain.shape[0] ?? 0);
  const size = data.rows * data.cols;
  const first = data.xTrain.slice(0, n);
  const pixels = first.dataSync() as Float32Array;
  first.dispose();
  const labels = data.trainLabels();
  const maxValue = data.pixelMax;
  const tiles = Array.from({ length: n }, (_, i) => ({ pixels: pixelsOf(pixels, i, size), caption: [data.classNames[labels[i]!]!] }));
  return tileGrid(tiles, { rows: data.rows, cols: data.cols, columns, maxValue }, `the first ${n} training images`);
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
export function mistakeGallery(data: MnistData, report: TestReport, count = 12, columns = 6): PngImage {
  const classes = report.classNames.length;
  const mistakes = confidentMistakes(report.probabilities, classes, data.testLabels(), count);
  const size = data.rows * data.cols;
  const maxValue = data.pixelMax;
  if (mistakes.length === 0) return tileGrid([{ pixels: new Float32Array(size), caption: ["NO MISTAKES"] }], { rows: data.rows, cols: data.cols, maxValue });
  // Only the mistaken images are copied out of the test tensor.
  const chosen = tf.tidy(() => tf.gather(data.xTest, mistakes.map((m) => m.index)));
  const pixels = chosen.dataSync() as Float32Array;
  chosen.dispose();
  const tiles = mistakes.map((m, i) => ({
    pixels: pixelsOf(pixels, i, size),
    caption: [`TRUE ${report.classNames[m.label]}`, `PRED ${report.classNames[m.predicted]}`, `${Math.round(m.confidence * 100)}%`],
  }));
  return tileGrid(tiles, { rows: data.rows, cols: data.cols, columns, maxValue }, `the ${tiles.length} most confident mistakes`);
}

/**
 * The notebook's pictures of the data: a grid of training examples with
 * their labels, and a model's most confident mistakes on the test set.
 */
import type { LayersModel } from "@tensorflow/tfjs-node";
import { confidentMistakes, confusionMatrix, argMaxRows, predictProbabilities } from "./analysis";
import type { MnistData } from "./data";
import { tileGrid, type PngImage } from "./images";

/** 255 for raw bytes, 1 after rescaling. */
function whiteOf(pixels: ArrayLike<number>): number {
  for (let i = 0; i < pixels.length; i++) if (pixels[i]! > 1) return 255;
  return 1;
}

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
  const maxValue = whiteOf(pixels);
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
export function testReport(model: LayersModel, data: MnistData): TestReport {
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
  const pixels = data.xTest.dataSync() as Float32Array;
  const maxValue = whiteOf(pixels);
  const tiles = mistakes.map((m) => ({
    pixels: pixelsOf(pixels, m.index, size),
    caption: [`TRUE ${report.classNames[m.label]}`, `PRED ${report.classNames[m.predicted]}`, `${Math.round(m.confidence * 100)}%`],
  }));
  if (tiles.length === 0) return tileGrid([{ pixels: new Float32Array(size), caption: ["NO MISTAKES"] }], { rows: data.rows, cols: data.cols, maxValue });
  return tileGrid(tiles, { rows: data.rows, cols: data.cols, columns, maxValue }, `the ${tiles.length} most confident mistakes`);
}

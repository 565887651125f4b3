import fs from "node:fs";
import path from "node:path";
import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { adadelta } from "../../src/engine/adadelta";
import { tf } from "../../src/core/backend";
import { buildConvNet } from "../../src/training/models";
import { writeFolderAtomic } from "../../src/training/persistence";
import { tempDir } from "../helpers";

describe("model.save to a file:// folder", () => {
  it("writes tfjs's format, parents made, and tf.loadLayersModel gives the same predictions", async () => {
    const x = tf.randomUniform([64, 28, 28, 1], 0, 1, "float32", 1);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), "int32"), 10);
    const model = buildConvNet({ seed: 3, dropoutConv: 0.25, dropoutDense: 0.5, name: "saved" });
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1 }), metrics: ["accuracy"] });
    await model.fit(x, y, { epochs: 2, batchSize: 16, validationSplit: 0.25, verbose: 0 });
    const dir = path.join(tempDir("models"), "output", "models", "model_2"); // neither output/ nor models/ exists yet
    const result = await model.save(`file://${dir}`);
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(1_199_882 * 4);
    expect(fs.readdirSync(dir).sort()).toEqual(["model.json", "weights.bin"]);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(["model_2"]); // no staging folder left

    const loaded = await tf.loadLayersModel(`file://${path.join(dir, "model.json")}`);
    const expected = (model.predict(x) as Tensor).dataSync();
    expect(Array.from((loaded.predict(x) as Tensor).dataSync())).toEqual(Array.from(expected));
    loaded.dispose();
  });
});

describe("writeFolderAtomic", () => {
  it("replaces a folder whole, and leaves the earlier copy when writing fails", async () => {
    const dir = path.join(tempDir("atomic"), "model_1");
    await writeFolderAtomic(dir, async (staging) => {
      fs.mkdirSync(staging);
      fs.writeFileSync(path.join(staging, "model.json"), "first");
    });
    await expect(writeFolderAtomic(dir, async (staging) => {
      fs.mkdirSync(staging);
      fs.writeFileSync(path.join(staging, "model.json"), "half");
      throw new Error("disk full");
    })).rejects.toThrow("disk full");
    expect(fs.readFileSync(path.join(dir, "model.json"), "utf8")).toBe("first");
    expect(fs.readdirSync(path.dirname(dir))).toEqual(["model_1"]);
  });
});

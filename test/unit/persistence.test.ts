import fs from "node:fs";
import path from "node:path";
import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { adadelta } from "../../src/model/adadelta";
import { tf } from "../../src/core/backend";
import { buildConvNet } from "../../src/model/models";
import { loadTrained, saveTrained } from "../../src/training/persistence";
import { train } from "../../src/training/training";
import { tempDir } from "../helpers";

describe("saveTrained and loadTrained", () => {
  it("round-trip a trained model: same predictions, same history, tfjs format on disk", async () => {
    const x = tf.randomUniform([64, 28, 28, 1], 0, 1, "float32", 1);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), "int32"), 10);
    const model = buildConvNet({ seed: 3, dropoutConv: 0.25, dropoutDense: 0.5, name: "saved" });
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1 }), metrics: ["accuracy"] });
    const history = await train(model, x, y, { epochs: 2, batchSize: 16, validationSplit: 0.25, seed: 1 });
    const dir = path.join(tempDir("models"), "models", "model_2");
    expect(await saveTrained(model, history, dir)).toBe(dir);
    expect(fs.readdirSync(dir).sort()).toEqual(["history.json", "model.json", "weights.bin"]);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(["model_2"]); // no staging folder left

    const fresh = buildConvNet({ seed: 99, dropoutConv: 0.25, dropoutDense: 0.5, name: "loaded" });
    const before = (fresh.predict(x) as Tensor).dataSync();
    const loaded = await loadTrained(fresh, dir);
    const expected = (model.predict(x) as Tensor).dataSync();
    const after = (fresh.predict(x) as Tensor).dataSync();
    expect(Array.from(after)).toEqual(Array.from(expected));
    expect(Array.from(before)).not.toEqual(Array.from(expected));
    expect(loaded).toEqual(JSON.parse(JSON.stringify(history)));
  });

  it("explains a missing save and a different network", async () => {
    const dir = path.join(tempDir("models"), "model_1");
    await expect(loadTrained(buildConvNet({ name: "m" }), dir)).rejects.toThrow(/No saved model in .*model_1\. Run the notebook once with loadSavedModels = false/);
    const small = buildConvNet({ inputShape: [14, 14, 1], name: "small" });
    const history = { epoch: [], history: { loss: [], accuracy: [], val_loss: [], val_accuracy: [], seconds: [] }, params: {} } as never;
    await saveTrained(small, history, dir);
    await expect(loadTrained(buildConvNet({ name: "big" }), dir)).rejects.toThrow(/has weights \[.*\], this one \[.*\]: they are different networks/);
  });
});

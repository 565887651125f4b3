// Shared by the benchmark's TS side and the profiler: the notebook's data and
// model N, prepared and compiled as the notebook does, from the compiled helpers.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const helpers = require("../dist/index.js");

/** The first `samples` MNIST training images (null: all) and model 1, 2 or 3 (2 with augmentation) seeded with `seed`, compiled with Adadelta(1.0). */
export async function prepare(modelNumber, samples, seed = 42) {
  const { loadMnist, buildConvNet, adadelta } = helpers;
  const data = await loadMnist({ limit: samples });
  data.reshape([28, 28, 1]);
  data.rescale(255);
  data.toCategorical(10);
  const dropout = ["2", "3"].includes(String(modelNumber));
  const model = buildConvNet({ seed, dropoutConv: dropout ? 0.25 : 0, dropoutDense: dropout ? 0.5 : 0, augment: String(modelNumber) === "3" });
  model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
  return { data, model };
}

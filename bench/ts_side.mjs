// One side of `npm run bench`: the project's own training path (trainWithProgress,
// as the notebook calls it) trains model 1 or 2 on the first N MNIST images.
// Prints one JSON line: milliseconds per step over the timed run, and peak RSS.
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const { values } = parseArgs({
  options: { model: { type: "string" }, steps: { type: "string" }, warmup: { type: "string" }, "batch-size": { type: "string", default: "128" } },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const batchSize = Number(values["batch-size"]);
const { loadMnist, buildConvNet, adadelta, trainWithProgress } = require("../dist/index.js");

const data = await loadMnist({ limit: steps * batchSize });
data.reshape([28, 28, 1]);
data.rescale(255);
data.toCategorical(10);
const dropout = values.model === "2";
const model = buildConvNet({ seed: 42, dropoutConv: dropout ? 0.25 : 0, dropoutDense: dropout ? 0.5 : 0 });
model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });

// trainWithProgress prints Keras-style lines; keep stdout for the result.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = () => true;
const warm = warmup * batchSize;
await trainWithProgress(model, data.xTrain.slice(0, warm), data.yTrain.slice(0, warm), { epochs: 1, batchSize, validationSplit: 0, seed: 1 });
const started = performance.now();
await trainWithProgress(model, data.xTrain, data.yTrain, { epochs: 1, batchSize, validationSplit: 0, seed: 1 });
const ms = performance.now() - started;
process.stdout.write = write;
console.log(JSON.stringify({ msPerStep: ms / steps, peakRssMb: process.resourceUsage().maxRSS / 1024 }));

// One side of `npm run bench`: the project's own training path (trainWithProgress,
// as the notebook calls it) trains model 1 or 2 on the first N MNIST images.
// Prints one JSON line: milliseconds per step over the timed run, and peak RSS.
import { parseArgs } from "node:util";
import { helpers, prepare } from "./prepare.mjs";

const { values } = parseArgs({
  options: { model: { type: "string" }, steps: { type: "string" }, warmup: { type: "string" }, "batch-size": { type: "string", default: "128" } },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const batchSize = Number(values["batch-size"]);
const { trainWithProgress } = helpers;
const { data, model } = await prepare(values.model, steps * batchSize);

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

// One side of `npm run bench`: the project's own training path (model.fit, as the
// notebook calls it, with its progress bar). Step mode: model 1 or 2 on the first N MNIST images,
// milliseconds per step over the timed run. --e2e: the notebook's fits (models 1 and 2,
// or those --models lists, e.g. 3; 6 epochs, validation split 0.2, all 60,000 images,
// seeded with --seed), their seconds and each model's test loss and accuracy. Prints one JSON line,
// with the process's peak RSS and the kernel chosen for each op.
import fs from "node:fs";
import { parseArgs } from "node:util";
import { buildEdit } from "./edits.mjs";
import { helpers, prepare } from "./prepare.mjs";

const { values } = parseArgs({
  options: {
    model: { type: "string" }, steps: { type: "string" }, warmup: { type: "string" },
    "batch-size": { type: "string", default: "128" }, e2e: { type: "boolean", default: false }, seed: { type: "string", default: "42" },
    edits: { type: "string" }, models: { type: "string", default: "1,2" },
  },
});
const batchSize = Number(values["batch-size"]);
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

// fit prints Keras-style lines; keep stdout for the result.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = () => true;
let result;
if (values.e2e) {
  const seed = Number(values.seed);
  const fits = [];
  const test = [];
  for (const model of values.models.split(",")) {
    const prepared = await prepare(model, null, seed);
    const started = performance.now();
    await prepared.model.fit(prepared.data.xTrain, prepared.data.yTrain, { batchSize, epochs: 6, validationSplit: 0.2 });
    fits.push((performance.now() - started) / 1000);
    const [loss, accuracy] = prepared.model.evaluate(prepared.data.xTest, prepared.data.yTest);
    test.push({ loss, accuracy });
  }
  result = { seconds: fits.reduce((a, b) => a + b, 0), fits, test, peakRssMb: peakRssMb() };
} else if (values.edits) {
  const steps = Number(values.steps);
  const warm = Number(values.warmup) * batchSize;
  const { data } = await prepare(1, steps * batchSize);
  const classes = helpers.tf.argMax(data.yTrain, -1);
  const edits = {};
  for (const edit of JSON.parse(fs.readFileSync(values.edits, "utf8"))) {
    const model = buildEdit(helpers, edit);
    const y = edit.loss === "sparseCategoricalCrossentropy" ? classes : data.yTrain;
    await model.fit(data.xTrain.slice(0, warm), y.slice(0, warm), { batchSize, epochs: 1 });
    const started = performance.now();
    const history = await model.fit(data.xTrain, y, { batchSize, epochs: 1 });
    edits[edit.name] = { msPerStep: (performance.now() - started) / steps, loss: history.history.loss[0], accuracy: (history.history.accuracy ?? history.history.acc)[0] };
  }
  result = { edits, peakRssMb: peakRssMb() };
} else {
  const steps = Number(values.steps);
  const warm = Number(values.warmup) * batchSize;
  const { data, model } = await prepare(values.model, steps * batchSize);
  await model.fit(data.xTrain.slice(0, warm), data.yTrain.slice(0, warm), { batchSize, epochs: 1 });
  const started = performance.now();
  await model.fit(data.xTrain, data.yTrain, { batchSize, epochs: 1 });
  result = { msPerStep: (performance.now() - started) / steps, peakRssMb: peakRssMb() };
}
process.stdout.write = write;
console.log(JSON.stringify({ ...result, kernels: helpers.kernelChoices() }));

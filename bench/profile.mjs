#!/usr/bin/env node
// `npm run profile [-- --model 2 | --edit "kernelSize 5"] [--steps 30 --by-shape]`: where one training step of the
// notebook's path spends its time, per TensorFlow op (wall time of each native
// call, summed per step), next to the step's total, and the step's arithmetic
// (FLOPs of its convolutions and matrix products) with the rate reached, beside
// the machine's sgemm rate from a probe of about a second (what two cores can
// do here) and the share of it the convolutions reach. Used to choose what to
// speed up. Each convolution's three passes (forward, input's gradient, filter's gradient) get a line of their own,
// with the kernel the tuner chose for them (engine/kernels.ts). --edit profiles one of bench/edits.json's students' edits instead. The ops are
// timed with the step run op by op (compile's runEagerly); the last line times the step as fit
// runs it, one TensorFlow function.
import { parseArgs } from "node:util";
import { buildEdit, editList } from "./edits.mjs";
import { createRequire } from "node:module";
import { helpers, prepare } from "./prepare.mjs";

const { values } = parseArgs({
  options: { model: { type: "string", default: "1" }, edit: { type: "string" }, steps: { type: "string", default: "30" }, "by-shape": { type: "boolean", default: false } },
});
const steps = Number(values.steps);
const { tf } = helpers;
const prepared = await prepare(values.model, 128 * steps);
const { data } = prepared;
const model = values.edit === undefined ? prepared.model : editNamed(values.edit);

/** The edit of bench/edits.json named `name`, as the bench's TypeScript side builds it (sparse labels are not profiled). */
function editNamed(name) {
  const edit = editList().find((e) => e.name === name);
  if (edit === undefined || edit.loss === "sparseCategoricalCrossentropy") {
    console.error(`--edit: one of ${editList().filter((e) => e.loss !== "sparseCategoricalCrossentropy").map((e) => JSON.stringify(e.name)).join(", ")}`);
    process.exit(2);
  }
  return buildEdit(helpers, edit);
}
// Op by op, so that each op's time shows; fit runs the step as one TensorFlow function (the last line).
model.runEagerly = true;
await model.fit(data.xTrain.slice(0, 640), data.yTrain.slice(0, 640), { batchSize: 128, epochs: 1, verbose: 0 }); // warm-up

/**
 * Floating-point operations of one training step of batch `batch`, counting
 * each multiply-add as 2: for every Conv2D and Dense layer, the forward
 * product, the weights' gradient, and the input's gradient (not for the first
 * layer, whose input is the images). Element-wise work is left out.
 */
function stepFlops(net, batch) {
  const flops = { conv: 0, dense: 0 };
  net.layers.forEach((layer, index) => {
    const kernel = layer.getWeights()[0]?.shape;
    const out = layer.outputShape;
    const passes = 2 * batch * (index === 0 ? 2 : 3);
    if (layer.getClassName() === "Conv2D") flops.conv += passes * out[1] * out[2] * kernel.reduce((a, b) => a * b, 1);
    else if (layer.getClassName() === "Dense") flops.dense += passes * kernel[0] * kernel[1];
  });
  return flops;
}

/** What this machine's matrix product reaches: 2048² float32 products for about a second, in GFLOP/s. */
function sgemmRate(n = 2048, seconds = 1) {
  const [a, b] = [tf.randomUniform([n, n]), tf.randomUniform([n, n])];
  tf.matMul(a, b).dispose(); // warm-up: oneDNN generates its kernel on first use
  let reps = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const c = tf.matMul(a, b);
    c.dataSync(); // wait for it
    c.dispose();
    reps++;
  }
  const rate = (2 * n ** 3 * reps) / ((performance.now() - started) / 1000) / 1e9;
  tf.dispose([a, b]);
  return rate;
}
const sgemm = sgemmRate();

/** Adds a call of `ms` to `table`'s entry for `key`, made from `about` the first time. */
function tally(table, key, ms, about = {}) {
  const entry = table.get(key) ?? { ...about, calls: 0, ms: 0 };
  entry.calls += 1;
  entry.ms += ms;
  table.set(key, entry);
}
/** `f`, handing each call's wall time and arguments to `record`. */
const timed = (f, record) => (...args) => {
  const started = performance.now();
  const result = f(...args);
  record(performance.now() - started, ...args);
  return result;
};

const backend = tf.backend();
const perOp = new Map();
for (const method of ["executeSingleOutput", "executeMultipleOutputs"]) {
  // --by-shape: one row per op and input shapes (which convolution, which product)
  const keyOf = (name, inputs) => (values["by-shape"] ? `${name} ${inputs.map((t) => JSON.stringify(t.shape)).join(" ")}` : name);
  backend[method] = timed(backend[method].bind(backend), (ms, name, _, inputs) => tally(perOp, keyOf(name, inputs), ms));
}
// Each convolution pass as the stages call it, whatever ops its kernel is made of, keyed as the tuner keys its choice.
const { nativeOps, kernelChoices } = createRequire(import.meta.url)("../dist/engine/kernels.js");
const ops = nativeOps();
const passes = new Map();
const dims = (shape) => `[${shape.join(",")}]`;
const passOf = {
  conv: (x, w) => ["conv2d", "forward", `x ${dims(x.shape)} w ${dims(w.shape)}`],
  convRelu: (x, w) => ["conv2dRelu", "forward", `x ${dims(x.shape)} w ${dims(w.shape)}`],
  convInputGrad: (_, w, dy) => ["conv2dInputGrad", "input's gradient", `w ${dims(w.shape)} dy ${dims(dy.shape)}`],
  convFilterGrad: (x, _, dy) => ["conv2dFilterGrad", "filter's gradient", `x ${dims(x.shape)} dy ${dims(dy.shape)}`],
};
const unwrapped = { ...ops };
for (const [method, describe] of Object.entries(passOf)) {
  ops[method] = timed(ops[method], (ms, ...args) => {
    const [op, pass, shape] = describe(...args);
    tally(passes, `${op} ${shape}`, ms, { op, pass, shape });
  });
}
const started = performance.now();
await model.fit(data.xTrain, data.yTrain, { batchSize: 128, epochs: 1, verbose: 0 });
const wall = (performance.now() - started) / steps;
Object.assign(ops, unwrapped);
const rows = [...perOp].map(([name, e]) => [name, e.calls / steps, e.ms / steps]).sort((a, b) => b[2] - a[2]);
const native = rows.reduce((sum, r) => sum + r[2], 0);
console.log(`${values.edit ?? `model ${values.model}`}, batch 128, ${steps} steps: ${wall.toFixed(1)} ms/step, of which ${native.toFixed(1)} ms in TensorFlow ops`);
const flops = stepFlops(model, 128);
const total = flops.conv + flops.dense;
console.log(`${(total / 1e9).toFixed(2)} GFLOP per step (convolutions and matrix products): ${(total / 1e6 / wall).toFixed(0)} GFLOP/s over the whole step`);
const convMs = [...passes.values()].reduce((sum, p) => sum + p.ms / steps, 0);
// the passes' own time, with whatever transforms or transposes their kernels do
const convRate = flops.conv / 1e6 / convMs;
const share = (rate) => `${((100 * rate) / sgemm).toFixed(0)} %`;
console.log(
  `sgemm (2048², about 1 s): ${sgemm.toFixed(0)} GFLOP/s; the convolutions: ${convRate.toFixed(0)} GFLOP/s-equivalent in their passes (${convMs.toFixed(1)} ms/step), ${share(convRate)} of sgemm`,
);
console.log("   ms/step  kernel       convolution pass");
const chosen = kernelChoices();
for (const p of [...passes.values()].sort((a, b) => b.ms - a.ms)) {
  const kernel = chosen.find((c) => c.op === p.op && c.shape.startsWith(p.shape))?.kernel ?? "?";
  console.log(`${(p.ms / steps).toFixed(2).padStart(10)}  ${kernel.padEnd(11)}  ${p.pass}: ${p.shape}`);
}
console.log("   ms/step  calls/step  op");
for (const [name, calls, ms] of rows.slice(0, 20)) console.log(`${ms.toFixed(2).padStart(10)}  ${String(calls).padStart(10)}  ${name}`);

for (const method of ["executeSingleOutput", "executeMultipleOutputs"]) delete backend[method];
model.runEagerly = false;
await model.fit(data.xTrain.slice(0, 640), data.yTrain.slice(0, 640), { batchSize: 128, epochs: 1, verbose: 0 });
const asFunction = performance.now();
await model.fit(data.xTrain, data.yTrain, { batchSize: 128, epochs: 1, verbose: 0 });
console.log(`the step as one TensorFlow function, as fit runs it: ${((performance.now() - asFunction) / steps).toFixed(1)} ms/step`);

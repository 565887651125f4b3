#!/usr/bin/env node
// `npm start [-- -p name value ...]`: runs notebooks/deep-convolution.ipynb headless
// through Jupyter (nbclient, tslab kernel) with papermill-style parameter
// overrides, relays its progress to the terminal, and leaves in output/ the
// executed notebook, its HTML export and metrics.json.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const NOTEBOOK = path.join(root, "notebooks", "deep-convolution.ipynb");
function fail(message, code = 2) {
  console.error(message);
  process.exit(code);
}

function parseArgs(argv, parseValue, parameterNames) {
  const USAGE = `Usage: npm start [-- -p name value ...]
  Runs notebooks/deep-convolution.ipynb and writes output/deep-convolution.{ipynb,html} and output/metrics.json.
  -p, --parameter name value   override a parameter, e.g. -p epochs 1 -p sampleLimit 2000
Parameters: ${parameterNames.join(", ")}`;
  const overrides = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg !== "-p" && arg !== "--parameter") fail(`Unknown argument ${JSON.stringify(arg)}.\n${USAGE}`);
    const [name, value] = [argv[i + 1], argv[i + 2]];
    if (name === undefined || value === undefined) fail(`${arg} needs a name and a value, e.g. -p epochs 1.\n${USAGE}`);
    overrides[name] = parseValue(value);
    i += 2;
  }
  return overrides;
}

// The helpers are compiled first so the run uses the current src/.
const tsc = spawnSync(path.join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
if (tsc.status !== 0) fail("Compiling src/ failed (see above); fix it, then run npm start again.", 1);
const { checkParameters, parseParameterValue, ParameterError, DEFAULT_PARAMETERS } = require(path.join(root, "dist", "parameters.js"));

const overrides = parseArgs(process.argv.slice(2), parseParameterValue, Object.keys(DEFAULT_PARAMETERS));
// Paths typed on the command line are relative to where the command runs, not to notebooks/.
for (const name of ["dataDir", "outputDir"]) {
  if (typeof overrides[name] === "string") overrides[name] = path.resolve(overrides[name]);
}
let parameters;
try {
  parameters = checkParameters(overrides);
} catch (error) {
  if (error instanceof ParameterError) fail(error.message);
  throw error;
}

const python = path.join(root, ".venv", "bin", "python");
if (!fs.existsSync(python)) fail("The project's Jupyter (.venv) is missing: run npm install (or npm run setup) first.", 1);
if (!fs.existsSync(NOTEBOOK)) fail(`${NOTEBOOK} is missing.`, 1);

const outputDir = path.resolve(root, "notebooks", parameters.outputDir);
const executed = path.join(outputDir, "deep-convolution.ipynb");
const html = path.join(outputDir, "deep-convolution.html");
const metricsFile = path.join(outputDir, "metrics.json");
const metricsBefore = fs.existsSync(metricsFile) ? fs.statSync(metricsFile).mtimeMs : 0;

console.log(`Running ${path.relative(root, NOTEBOOK)}${Object.keys(overrides).length ? ` with ${JSON.stringify(overrides)}` : ""}`);
const child = spawn(python, [
  path.join(root, "scripts", "run_notebook.py"), NOTEBOOK, executed, "--html", html, "--parameters", JSON.stringify(overrides),
], { cwd: root, stdio: ["inherit", "inherit", "pipe"], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? "2" } });
// TensorFlow logs two start-up lines (absl, oneDNN) that no setting silences; everything else passes.
const startupNoise = /^(WARNING: All log messages before absl::InitializeLog|I0000 .*oneDNN custom operations are on)/;
readline.createInterface({ input: child.stderr }).on("line", (line) => {
  if (!startupNoise.test(line)) process.stderr.write(`${line}\n`);
});
// Ctrl-C reaches the runner too; it stops the kernel and keeps earlier outputs. Wait for it.
process.on("SIGINT", () => {});
child.on("exit", (code, signal) => {
  if (code !== 0) process.exit(code ?? (signal ? 130 : 1));
  console.log(`\nWrote ${path.relative(process.cwd(), executed)}, ${path.relative(process.cwd(), html)}`);
  if (fs.existsSync(metricsFile) && fs.statSync(metricsFile).mtimeMs > metricsBefore) {
    console.log(`and ${path.relative(process.cwd(), metricsFile)}:`);
    const { models } = JSON.parse(fs.readFileSync(metricsFile, "utf8"));
    for (const [name, m] of Object.entries(models)) {
      console.log(`  ${name}: test loss ${m.testLoss?.toFixed(4)}, test accuracy ${m.testAccuracy?.toFixed(4)} after ${m.epochs} epoch(s)`);
    }
  }
});

#!/usr/bin/env node
// `npm start [-- -p name value ...] [--paper Letter]`: runs notebooks/deep-convolution.ipynb
// headless through Jupyter (nbclient, tslab kernel) with papermill-style
// parameter overrides, relays its progress to the terminal, and leaves in
// output/ the executed notebook, its HTML export, the PDF printed from that
// HTML, and metrics.json.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { compileHelpers, projectPython, root } from "./project.mjs";

const require = createRequire(import.meta.url);
const NOTEBOOKS = path.join(root, "notebooks");
const NOTEBOOK = path.join(NOTEBOOKS, "deep-convolution.ipynb");
function fail(message, code = 2) {
  console.error(message);
  process.exit(code);
}

function parseArgs(argv, parseValue, parameterNames, parsePaper) {
  const USAGE = `Usage: npm start [-- -p name value ...] [--paper A4|Letter]
  Runs notebooks/deep-convolution.ipynb and writes output/deep-convolution.{ipynb,html,pdf} and output/metrics.json.
  -p, --parameter name value   override a parameter, e.g. -p epochs 1 -p sampleLimit 2000
  --paper A4|Letter            the PDF's paper size (default A4)
Parameters: ${parameterNames.join(", ")}`;
  const overrides = {};
  let paper = "A4";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg === "--paper") {
      try {
        paper = parsePaper(argv[++i] ?? "");
      } catch (error) {
        fail(`${error.message}\n${USAGE}`);
      }
      continue;
    }
    if (arg !== "-p" && arg !== "--parameter") fail(`Unknown argument ${JSON.stringify(arg)}.\n${USAGE}`);
    const [name, value] = [argv[i + 1], argv[i + 2]];
    if (name === undefined || value === undefined) fail(`${arg} needs a name and a value, e.g. -p epochs 1.\n${USAGE}`);
    overrides[name] = parseValue(value);
    i += 2;
  }
  return { overrides, paper };
}

// The helpers are compiled first so the run uses the current src/.
if (!compileHelpers()) fail("Compiling src/ failed (see above); fix it, then run npm start again.", 1);
const { checkParameters, parseParameterValue, ParameterError, DEFAULT_PARAMETERS } = require(path.join(root, "dist", "notebook", "parameters.js"));
const { parsePaper, writePdf } = require(path.join(root, "dist", "browser", "pdf.js"));

const { overrides, paper } = parseArgs(process.argv.slice(2), parseParameterValue, Object.keys(DEFAULT_PARAMETERS), parsePaper);
// Paths typed on the command line are relative to where the command runs. The
// notebook runs in notebooks/ and is handed in, so it gets them relative to
// that folder, never as this machine's absolute paths.
const PATH_PARAMETERS = ["dataDir", "outputDir"];
for (const name of PATH_PARAMETERS) {
  if (typeof overrides[name] === "string") overrides[name] = path.resolve(overrides[name]);
}
let parameters;
try {
  parameters = checkParameters(overrides);
} catch (error) {
  if (error instanceof ParameterError) fail(error.message);
  throw error;
}
for (const name of PATH_PARAMETERS) {
  if (typeof overrides[name] === "string") overrides[name] = path.relative(NOTEBOOKS, overrides[name]) || ".";
}

const python = projectPython();
if (!fs.existsSync(NOTEBOOK)) fail(`${NOTEBOOK} is missing.`, 1);

const outputDir = path.resolve(NOTEBOOKS, parameters.outputDir);
const executed = path.join(outputDir, "deep-convolution.ipynb");
const html = path.join(outputDir, "deep-convolution.html");
const pdf = path.join(outputDir, "deep-convolution.pdf");
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
child.on("exit", async (code, signal) => {
  if (code !== 0) process.exit(code ?? (signal ? 130 : 1));
  const shown = (file) => path.relative(process.cwd(), file);
  let printer;
  try {
    printer = await writePdf(fs.readFileSync(html, "utf8"), pdf, { paper, title: path.basename(executed) });
  } catch (error) {
    fail(`The notebook ran and ${shown(executed)} and ${shown(html)} were written, but printing ${shown(pdf)} failed: ${error.message}`, 1);
  }
  console.log(`\nWrote ${shown(executed)}, ${shown(html)}, ${shown(pdf)} (${paper}, printed by ${printer})`);
  if (fs.existsSync(metricsFile) && fs.statSync(metricsFile).mtimeMs > metricsBefore) {
    console.log(`and ${shown(metricsFile)}:`);
    const { models } = JSON.parse(fs.readFileSync(metricsFile, "utf8"));
    for (const [name, m] of Object.entries(models)) {
      console.log(`  ${name}: test loss ${m.testLoss?.toFixed(4)}, test accuracy ${m.testAccuracy?.toFixed(4)} after ${m.epochs} epoch(s)`);
    }
  }
});

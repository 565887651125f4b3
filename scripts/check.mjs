#!/usr/bin/env node
// `npm run check -- FILE.ipynb`: before handing in, checks a saved notebook
// without running it (src/notebook/submission.ts): every code cell run, in
// order from [1], no error output, every chart and picture with its image, every answer
// written. Prints the run's parameters and test figures. Exit 0 when it is
// ready, 1 with each problem and its fix.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { compileHelpers, root } from "./project.mjs";

const require = createRequire(import.meta.url);
const USAGE = "Usage: npm run check -- FILE.ipynb   (checks a saved notebook before you hand it in; runs nothing)";
const [file, ...extra] = process.argv.slice(2);
if (file === "-h" || file === "--help") {
  console.log(USAGE);
  process.exit(0);
}
if (file === undefined || extra.length > 0) {
  console.error(`${file === undefined ? "Which notebook?" : "One notebook at a time."} ${USAGE}`);
  process.exit(1);
}
if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
  console.error(`${file} does not exist.`);
  process.exit(1);
}
if (!compileHelpers()) process.exit(1);
const { checkSubmission, parseNotebook, NotANotebookError } = require(path.join(root, "dist", "notebook", "submission.js"));

let report;
try {
  report = checkSubmission(parseNotebook(fs.readFileSync(file, "utf8"), file), file);
} catch (error) {
  if (!(error instanceof NotANotebookError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const name = path.basename(file);
const { problems, codeCells, figures, answers, parameters, results } = report;
const values = Object.entries(parameters).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(", ");
const testFigures = Object.entries(results).map(([model, r]) => `${model}: test loss ${r.loss.toFixed(4)}, test accuracy ${r.accuracy.toFixed(4)}`);
if (testFigures.length === 0) testFigures.push("No test figures: the notebook shows no comparison table with test_loss and test_accuracy.");
if (problems.length > 0) {
  console.error(`${name} is not ready to hand in (${problems.length} problem${problems.length === 1 ? "" : "s"}):`);
  problems.forEach((p, i) => console.error(`  ${i + 1}. ${p}`));
  process.exit(1);
}
console.log(`${name} is ready to hand in: ${codeCells} code cells ran in order with no error, ${figures} charts and pictures with their images, ${answers} answers written.`);
console.log(`Parameters: ${values}`);
for (const line of testFigures) console.log(line);

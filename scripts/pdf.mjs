#!/usr/bin/env node
// `npm run pdf -- FILE.ipynb [--paper A4|Letter] [-o OUT.pdf]`: the PDF to hand
// in, from any saved notebook (e.g. one run in JupyterLab): nbconvert's HTML
// export printed by the same Chromium that draws the charts. Nothing is run.
// Given an HTML export instead (FILE.html), it prints that: JupyterLab's
// Export menu does so through python/deep_convolution_pdf.py.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { compileHelpers, projectPython, root } from "./project.mjs";

const require = createRequire(import.meta.url);
const USAGE = `Usage: npm run pdf -- FILE.ipynb [--paper A4|Letter] [-o OUT.pdf] [--title TEXT]
  Prints a saved notebook (or its HTML export, FILE.html) to FILE.pdf beside it (or OUT.pdf),
  as handed in: code, outputs and every chart's image. --title sets the page footer (default: the file's name).`;

function fail(message) {
  console.error(message);
  process.exit(1);
}

const args = process.argv.slice(2);
if (args.includes("-h") || args.includes("--help")) {
  console.log(USAGE);
  process.exit(0);
}
let notebook = null;
let output = null;
let paperName = "A4";
let title = null;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "--paper") paperName = args[++i] ?? "";
  else if (arg === "-o" || arg === "--output") output = args[++i] ?? fail(`${arg} needs a file name.\n${USAGE}`);
  else if (arg === "--title") title = args[++i] ?? fail(`--title needs a text.\n${USAGE}`);
  else if (arg.startsWith("-")) fail(`Unknown option ${JSON.stringify(arg)}.\n${USAGE}`);
  else if (notebook === null) notebook = arg;
  else fail(`One notebook at a time (got ${JSON.stringify(notebook)} and ${JSON.stringify(arg)}).\n${USAGE}`);
}
if (notebook === null) fail(`Which notebook? ${USAGE}`);

if (!compileHelpers()) fail("Compiling src/ failed (see above).");
const { parsePaper, writePdf } = require(path.join(root, "dist", "browser", "pdf.js"));
const { checkSubmission, parseNotebook, NotANotebookError } = require(path.join(root, "dist", "notebook", "submission.js"));
let paper;
try {
  paper = parsePaper(paperName);
} catch (error) {
  fail(error.message);
}

const file = path.resolve(notebook);
if (!fs.existsSync(file)) fail(`${notebook} does not exist.`);
const html = /\.html?$/i.test(file) ? fs.readFileSync(file, "utf8") : exportHtml(file);

/**
 * nbconvert's HTML of a notebook. A wrong file gets one sentence instead of a
 * traceback; what npm run check would object to is printed as notes, since it
 * shows in the PDF too.
 */
function exportHtml(file) {
  try {
    for (const problem of checkSubmission(parseNotebook(fs.readFileSync(file, "utf8"), notebook), notebook).problems) console.warn(`Note: ${problem}`);
  } catch (error) {
    if (error instanceof NotANotebookError) fail(error.message);
    throw error;
  }

  const python = projectPython();
  // The hand-in HTML: nbconvert's, titled, with its authors and every image described (python/).
  const exported = spawnSync(python, ["-m", "nbconvert", "--to", "deep_convolution_pdf.HandInHTMLExporter", "--stdout", "--log-level", "ERROR", file], { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (exported.status !== 0) fail(`nbconvert could not export ${notebook} to HTML:\n${exported.stderr.trim().split("\n").slice(-3).join("\n")}`);
  return exported.stdout;
}

const target = path.resolve(output ?? `${file.replace(/\.(ipynb|html?)$/i, "")}.pdf`);
let printer;
try {
  printer = await writePdf(html, target, { paper, title: title ?? path.basename(file) });
} catch (error) {
  fail(`Printing ${notebook} failed: ${error.message}`);
}
console.log(`Wrote ${path.relative(process.cwd(), target)} (${paper}, ${Math.round(fs.statSync(target).size / 1024)} KB, printed by ${printer})`);

// What the project's scripts share: where the project is, where its venv keeps
// Python (bin/python on Linux and macOS, Scripts\python.exe on Windows),
// compiling src/ so a script runs the current helpers, and the notebook's cells.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The interpreter of the venv in `dir` (default: the project's .venv). */
export function venvPython(dir = path.join(root, ".venv"), platform = process.platform) {
  return platform === "win32" ? path.join(dir, "Scripts", "python.exe") : path.join(dir, "bin", "python");
}

/** The project venv's Python; exits with the one sentence that says what to do when .venv is missing. */
export function projectPython() {
  const python = venvPython();
  if (!fs.existsSync(python)) {
    console.error("The project's Jupyter (.venv) is missing: run npm install (or npm run setup) first.");
    process.exit(1);
  }
  return python;
}

/** An executable of node_modules/.bin (npm adds .cmd on Windows). */
export function nodeBin(name, platform = process.platform) {
  return path.join(root, "node_modules", ".bin", platform === "win32" ? `${name}.cmd` : name);
}

/** Compiles src/ to dist/; returns false (tsc has printed why) when it fails. */
export function compileHelpers() {
  return spawnSync(nodeBin("tsc"), ["-p", "tsconfig.json"], { cwd: root, stdio: "inherit", shell: process.platform === "win32" }).status === 0;
}

/**
 * The source of each code cell of the project's notebook.
 * @returns {string[]}
 */
export function notebookCells() {
  const nb = JSON.parse(fs.readFileSync(path.join(root, "notebooks", "deep-convolution.ipynb"), "utf8"));
  return nb.cells.filter((c) => c.cell_type === "code").map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source));
}

/**
 * The index of the cell containing `snippet`: cells found by what they do rather than by number.
 * @param {string[]} cells
 * @param {string} snippet
 */
export function cellWith(cells, snippet) {
  const index = cells.findIndex((c) => c.includes(snippet));
  if (index < 0) throw new Error(`no notebook cell contains ${snippet}`);
  return index;
}

#!/usr/bin/env node
// `npm run tensorboard [-- DIR]`: TensorBoard itself on the logs that the
// tensorBoard(...) callback writes (output/logs by default), listening on
// localhost only (PORT, default 6006). On its first run it installs the pinned
// TensorBoard of requirements-tensorboard.txt into the project's .venv.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pip } from "./pip.mjs";
import { projectPython, root } from "./project.mjs";

const fail = (message) => {
  console.error(message);
  process.exit(1);
};
const python = projectPython();
const logDir = path.resolve(process.argv[2] ?? path.join(root, "output", "logs"));
if (!fs.existsSync(logDir)) {
  fail(`${logDir} does not exist yet. Train with callbacks: [tensorBoard("../output/logs/model_1")] first, or give the folder: npm run tensorboard -- DIR`);
}

const installed = () => spawnSync(python, ["-c", "import tensorboard"], { stdio: "ignore" }).status === 0;
if (!installed()) {
  console.log("Installing TensorBoard into .venv (once; about 44 MB) from requirements-tensorboard.txt");
  if (pip(python, ["install", "-qq", "-r", path.join(root, "requirements-tensorboard.txt")]) !== 0 || !installed()) {
    fail("pip could not install TensorBoard into .venv (see its message above). Check that pip can reach a package index (`pip config list`).");
  }
}

const port = process.env.PORT ?? "6006";
console.log(`TensorBoard on ${path.relative(process.cwd(), logDir) || "."}: open http://127.0.0.1:${port}/ (Ctrl-C stops it)`);
const board = spawn(python, ["-m", "tensorboard.main", "--logdir", logDir, "--host", "127.0.0.1", "--port", port], {
  stdio: "inherit",
  env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? "2" },
});
process.on("SIGINT", () => {});
process.on("SIGTERM", () => board.kill("SIGTERM"));
board.on("exit", (code) => process.exit(code ?? 0));

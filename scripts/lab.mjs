#!/usr/bin/env node
// `npm run lab [-- folder]`: JupyterLab from the project's .venv on notebooks/
// (or the folder given), listening on localhost only with a token, plus
// `tsc --watch` so edits to src/ reach the notebook after a kernel restart.
// Ctrl-C stops both.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { nodeBin, projectPython, root } from "./project.mjs";

const python = projectPython();

const port = process.env.PORT ?? "8888";
const folder = path.resolve(process.argv[2] ?? path.join(root, "notebooks"));
if (!fs.existsSync(folder)) {
  console.error(`${folder} does not exist.`);
  process.exit(1);
}
const watcher = spawn(nodeBin("tsc"), ["-p", "tsconfig.json", "--watch", "--preserveWatchOutput"], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
});
// tsc prints a line per rebuild; only errors are worth the user's attention here.
watcher.stdout.on("data", (chunk) => {
  const text = String(chunk);
  if (/error TS/.test(text)) process.stderr.write(text);
});

const lab = spawn(python, [
  "-m", "jupyterlab",
  `--notebook-dir=${folder}`,
  "--ServerApp.ip=127.0.0.1",
  `--ServerApp.port=${port}`,
  "--no-browser",
  // Ctrl-C shuts down at once instead of asking "Shutdown this Jupyter server (y/[n])?"
  "--ServerApp.answer_yes=True",
  // Jupyter refuses to run as root unless told; containers and CI often are root.
  ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
], { cwd: root, stdio: "inherit", env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? "2" } });

// Ctrl-C reaches JupyterLab directly (same process group); it shuts its kernels down and exits.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => lab.kill("SIGTERM"));
lab.on("exit", (code) => {
  watcher.kill();
  process.exit(code ?? 0);
});

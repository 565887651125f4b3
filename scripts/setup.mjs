#!/usr/bin/env node
// One-command set-up, run by `npm install` (postinstall) and by `npm run setup`.
// Brings up, idempotently: the compiled helpers in dist/ (first: set-up uses
// their cache rule), the project's Python venv with Jupyter, the native
// TensorFlow binding of @tensorflow/tfjs-node, the patches of patches/ and the
// tslab kernels inside that venv. Each step checks before it works,
// so a second run is quick and a half-finished one is repaired.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { pip } from "./pip.mjs";
import { compileHelpers, nodeBin as bin, root, venvPython as projectVenvPython } from "./project.mjs";

const venv = path.join(root, ".venv");
const venvPython = projectVenvPython(venv);
const tfjsNodeDir = path.join(root, "node_modules", "@tensorflow", "tfjs-node");

// The TensorFlow C library used when tfjs-node's own download is impossible:
// the pip wheel of tensorflow-cpu carries it (libtensorflow_cc exports the C API).
const TF_WHEEL = { name: "tensorflow-cpu", version: "2.21.0" };

class SetupError extends Error {}

// The wheel's library is a Linux .so: elsewhere only tfjs-node's own download works.
const OFFLINE_LINUX_ONLY = `tfjs-node could not download TensorFlow, and the offline build from the ${TF_WHEEL.name} wheel works on Linux only (this is ${process.platform}): `
  + "connect to the internet and run `npm run setup`, or use the dev container (.devcontainer/) or WSL2.";

function log(message) {
  console.log(`[setup] ${message}`);
}

/** Runs a command; returns {status, stdout, stderr}. `inherit` streams output to the user. */
function run(cmd, args, { cwd = root, env = {}, inherit = false, timeoutMs } = {}) {
  const result = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: inherit ? "inherit" : "pipe",
    encoding: "utf8",
    timeout: timeoutMs,
  });
  if (result.error && result.error.code === "ENOENT") {
    return { status: 127, stdout: "", stderr: `${cmd}: not found` };
  }
  return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

function sha256(file) {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

// The helpers' own rule (src/core/cache.ts), so set-up and the data loader share one folder;
// buildHelpers runs first, so dist/ holds it.
function cacheDir() {
  const base = createRequire(import.meta.url)(path.join(root, "dist", "core", "cache.js")).cacheRoot();
  fs.mkdirSync(base, { recursive: true });
  return base;
}

// ---------------------------------------------------------------- Python venv

function findPython() {
  for (const candidate of [process.env.PYTHON, "python3", "python"].filter(Boolean)) {
    const probe = run(candidate, ["-c", "import sys, venv; print(sys.version_info >= (3, 9))"]);
    if (probe.status === 0 && probe.stdout.trim() === "True") return candidate;
  }
  throw new SetupError(
    "Python 3.9 or newer with the venv module was not found. Install it (Debian/Ubuntu: "
      + "`sudo apt-get install python3 python3-venv`), or point PYTHON at it, then run `npm run setup`.",
  );
}

function ensureVenv() {
  const requirements = path.join(root, "requirements.txt");
  const stamp = path.join(venv, ".requirements.sha256");
  // requirements.txt installs python/ (the PDF exporter) too: a change there reinstalls.
  const wanted = sha256(requirements) + sha256(path.join(root, "python", "pyproject.toml"));
  // Through `python -m`, never .venv/bin scripts: their #! lines break when the folder moves.
  const healthy = run(venvPython, ["-c", "import jupyterlab, nbclient, nbconvert, plotly, deep_convolution_pdf"]).status === 0;
  if (healthy && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === wanted) {
    log("Jupyter venv (.venv): up to date");
    return;
  }
  if (run(venvPython, ["-c", "pass"]).status !== 0) {
    // Missing or broken (e.g. its Python was removed): start over rather than patch it.
    fs.rmSync(venv, { recursive: true, force: true });
    log("creating .venv");
    const created = run(findPython(), ["-m", "venv", venv], { inherit: true });
    if (created.status !== 0) throw new SetupError("`python3 -m venv .venv` failed (see above).");
  }
  fs.rmSync(stamp, { force: true });
  log("installing Jupyter into .venv from requirements.txt (about a minute)");
  if (pip(venvPython, ["install", "-qq", "-r", requirements], log) !== 0) {
    throw new SetupError(
      "pip could not install requirements.txt into .venv (see pip's message above). "
        + "Check that pip can reach a package index (`pip config list`), then run `npm run setup`.",
    );
  }
  fs.writeFileSync(stamp, wanted);
}

/**
 * JupyterLab settings for this project's .venv only: render every cell (not
 * just those in view) so charts are drawn for screenshots and printing, and
 * never ask to fetch Jupyter news, which an offline machine cannot.
 */
function ensureLabSettings() {
  const file = path.join(venv, "share", "jupyter", "lab", "settings", "overrides.json");
  const settings = {
    "@jupyterlab/notebook-extension:tracker": { windowingMode: "none" },
    "@jupyterlab/apputils-extension:notification": { fetchNews: "false", checkForUpdates: false },
  };
  const text = `${JSON.stringify(settings, null, 2)}\n`;
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  log("JupyterLab settings: written to .venv/share/jupyter/lab/settings/overrides.json");
}

// ------------------------------------------------- native TensorFlow binding

/** Loads tfjs-node in a fresh process; returns null when it works, else the reason. */
function bindingProblem() {
  const probe = run(process.execPath, [
    "-e",
    "const tf = require('@tensorflow/tfjs-node');"
      + "const y = tf.conv2d(tf.ones([1,3,3,1]), tf.ones([2,2,1,1]), 1, 'valid').dataSync();"
      + "process.stdout.write(JSON.stringify({backend: tf.getBackend(), y: Array.from(y)}));",
  ], { env: { TF_CPP_MIN_LOG_LEVEL: "3" } });
  if (probe.status === 0) {
    try {
      const { backend, y } = JSON.parse(probe.stdout);
      if (backend === "tensorflow" && y.length === 4 && y.every((v) => v === 4)) return null;
      return `tfjs-node loaded but reported backend ${backend} and conv2d ${JSON.stringify(y)}`;
    } catch {
      return `unexpected output: ${probe.stdout.slice(0, 300)}`;
    }
  }
  const reason = probe.stderr.split("\n").find((l) => /^\w*Error: |cannot open shared object/.test(l.trim()));
  return reason?.trim() ?? probe.stderr.trim().split("\n").slice(-1)[0] ?? "unknown error";
}

/** tfjs-node's own installer: downloads libtensorflow (and a prebuilt addon) from Google's storage. */
function installBindingByDownload() {
  log("building the TensorFlow binding with tfjs-node's own installer (downloads libtensorflow)");
  const result = run(process.execPath, [path.join("scripts", "install.js")], {
    cwd: tfjsNodeDir,
    timeoutMs: 15 * 60_000,
  });
  if (result.status === 0) return true;
  const reason = (result.stderr.match(/Error: .*/) ?? [result.stderr.trim().split("\n").pop()])[0];
  log(`download path unavailable (${reason}); using the offline path`);
  // It may leave a half-extracted deps/ behind; the offline path replaces it.
  return false;
}

/** Extracts the TensorFlow C library and headers from the tensorflow-cpu wheel into the per-user cache. */
function ensureTensorflowFromWheel() {
  const target = path.join(cacheDir(), `${TF_WHEEL.name}-${TF_WHEEL.version}`);
  const complete = path.join(target, ".complete");
  // the headers are checked too: a tool that follows deps/'s symlinks can empty them (patch-package did, making a patch)
  if (fs.existsSync(complete) && fs.existsSync(path.join(target, "include", "tensorflow", "c", "c_api.h"))) {
    log(`TensorFlow C library: cached in ${target}`);
    return target;
  }
  const partial = `${target}.partial`;
  const downloads = `${target}.download`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(downloads, { recursive: true });
  log(`fetching the ${TF_WHEEL.name}==${TF_WHEEL.version} wheel with pip (about 275 MB)`);
  const status = pip(venvPython, [
    "download", "-qq", "--no-deps", "--only-binary=:all:", "-d", downloads, `${TF_WHEEL.name}==${TF_WHEEL.version}`,
  ], log);
  const wheel = fs.readdirSync(downloads).find((f) => f.endsWith(".whl"));
  if (status !== 0 || !wheel) {
    throw new SetupError(
      `Neither tfjs-node's download (storage.googleapis.com) nor pip (${TF_WHEEL.name}==${TF_WHEEL.version}) `
        + "could provide the TensorFlow library. Connect to the internet or configure a pip index that has "
        + `${TF_WHEEL.name}==${TF_WHEEL.version}, then run \`npm run setup\`.`,
    );
  }
  log("unpacking the TensorFlow C library and headers (about 1.1 GB, once per machine)");
  const extract = run(venvPython, ["-c", `
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
libs = {"tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"}
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name in libs:
            info.filename = "lib/" + os.path.basename(name)
        elif name.startswith("tensorflow/include/") and not name.endswith("/"):
            info.filename = name[len("tensorflow/"):]
        else:
            continue
        z.extract(info, dest)
missing = [l for l in libs if not os.path.exists(os.path.join(dest, "lib", os.path.basename(l)))]
if missing: sys.exit("wheel lacks " + ", ".join(missing))
`, path.join(downloads, wheel), partial], { inherit: true });
  if (extract.status !== 0) {
    throw new SetupError(`Unpacking ${wheel} failed (see above); free some disk space in ${cacheDir()} and run \`npm run setup\`.`);
  }
  fs.writeFileSync(path.join(partial, ".complete"), `${wheel}\n`);
  fs.renameSync(partial, target);
  fs.rmSync(downloads, { recursive: true, force: true });
  return target;
}

/** Points tfjs-node's deps/ at the cached library and compiles its binding from source. */
function buildBindingFromSource(tfDir) {
  const deps = path.join(tfjsNodeDir, "deps");
  fs.rmSync(deps, { recursive: true, force: true });
  fs.mkdirSync(path.join(deps, "lib"), { recursive: true });
  fs.symlinkSync(path.join(tfDir, "include"), path.join(deps, "include"));
  const links = {
    "libtensorflow_cc.so.2": path.join(tfDir, "lib", "libtensorflow_cc.so.2"),
    "libtensorflow_framework.so.2": path.join(tfDir, "lib", "libtensorflow_framework.so.2"),
    // binding.gyp links -ltensorflow -ltensorflow_framework
    "libtensorflow.so": "libtensorflow_cc.so.2",
    "libtensorflow_framework.so": "libtensorflow_framework.so.2",
  };
  for (const [name, targetPath] of Object.entries(links)) {
    fs.symlinkSync(targetPath, path.join(deps, "lib", name));
  }
  const args = ["install", "--build-from-source"];
  // Node's own headers, when installed beside it, spare node-gyp a download.
  const nodePrefix = path.resolve(process.execPath, "..", "..");
  if (fs.existsSync(path.join(nodePrefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${nodePrefix}`);
  log("compiling the tfjs-node binding against it (about 20 s)");
  const build = run(bin("node-pre-gyp"), args, { cwd: tfjsNodeDir, timeoutMs: 20 * 60_000 });
  if (build.status !== 0) {
    console.error(build.stdout.split("\n").slice(-20).join("\n"), build.stderr.split("\n").slice(-20).join("\n"));
    throw new SetupError(
      "Compiling the tfjs-node binding failed (output above). It needs make, a C++ compiler and Python "
        + "(Debian/Ubuntu: `sudo apt-get install build-essential python3`); then run `npm run setup`.",
    );
  }
}

/**
 * Whether a binding this set-up compiled (against the wheel's library) is older than its
 * source, which patches/ changes (it lets ops take lists of strings and types, as oneDNN's
 * fused convolution wants, and registers graphs as functions, for the training step run
 * as one function): it is then compiled again. A binding from tfjs-node's own
 * download is left as it is; the engine probes for what it needs.
 */
function sourceNewerThanBuild() {
  const lib = path.join(tfjsNodeDir, "lib");
  const built = fs.existsSync(lib) ? fs.readdirSync(lib).map((d) => path.join(lib, d, "tfjs_binding.node")).find((f) => fs.existsSync(f)) : undefined;
  const fromWheel = path.join(tfjsNodeDir, "deps", "lib", "libtensorflow_cc.so.2");
  if (built === undefined || !fs.existsSync(fromWheel)) return false;
  const sources = fs.readdirSync(path.join(tfjsNodeDir, "binding")).map((f) => path.join(tfjsNodeDir, "binding", f));
  return Math.max(...sources.map((f) => fs.statSync(f).mtimeMs)) > fs.statSync(built).mtimeMs;
}

function ensureTensorflowBinding() {
  if (!fs.existsSync(tfjsNodeDir)) {
    throw new SetupError("node_modules/@tensorflow/tfjs-node is missing: run `npm install` first.");
  }
  const before = bindingProblem();
  if (before === null && !sourceNewerThanBuild()) {
    log("TensorFlow binding: loads, backend 'tensorflow'");
    return;
  }
  if (before === null) {
    log("TensorFlow binding: its source was patched since it was compiled");
    buildBindingFromSource(ensureTensorflowFromWheel());
    checkBuiltBinding();
    return;
  }
  log(`TensorFlow binding not usable yet (${before})`);
  const source = process.env.DEEPCONV_TF_SOURCE ?? "auto"; // auto | download | wheel
  if (!["auto", "download", "wheel"].includes(source)) {
    throw new SetupError(`DEEPCONV_TF_SOURCE=${source} is not one of auto, download, wheel.`);
  }
  const downloaded = source !== "wheel" && installBindingByDownload();
  if (!downloaded) {
    if (source === "download") throw new SetupError("DEEPCONV_TF_SOURCE=download and the download failed.");
    if (process.platform !== "linux") throw new SetupError(OFFLINE_LINUX_ONLY);
    buildBindingFromSource(ensureTensorflowFromWheel());
  }
  checkBuiltBinding();
}

function checkBuiltBinding() {
  const after = bindingProblem();
  if (after !== null) {
    throw new SetupError(
      `The TensorFlow binding was built but does not load: ${after}. `
        + `Remove ${path.join(cacheDir())} and node_modules/@tensorflow/tfjs-node/deps, then run \`npm run setup\`.`,
    );
  }
  log("TensorFlow binding: built, backend 'tensorflow'");
}

// ------------------------------------------------------ Winograd kernels

/** Requires tfjs-node, then the addon, in a fresh process; null when its ops registered, else the reason. */
function addonProblem(file) {
  const probe = run(process.execPath, [
    "-e",
    "require('@tensorflow/tfjs-node'); process.stdout.write(JSON.stringify(require(process.argv[1]).error));",
    file,
  ], { env: { TF_CPP_MIN_LOG_LEVEL: "3" } });
  if (probe.status !== 0) return probe.stderr.trim().split("\n").find((l) => /Error/.test(l))?.trim() ?? "it does not load";
  const error = JSON.parse(probe.stdout || '"no answer"');
  return error === "" ? null : error;
}

/**
 * Compiles native/winograd.cc, the transforms of the Winograd convolutions (src/engine/ops/winograd.ts), against
 * the TensorFlow that tfjs-node loads. Optional: without it, the convolutions run on TensorFlow's own kernels, so a
 * failure is reported and set-up goes on.
 */
function ensureWinograd() {
  const { source, built } = createRequire(import.meta.url)(path.join(root, "dist", "core", "addons.js")).addon("winograd");
  const skip = (why) => log(`Winograd kernels: not built (${why}); convolutions use TensorFlow's own kernels`);
  if (process.platform !== "linux") return skip("Linux only, for now");
  if (fs.existsSync(built) && addonProblem(built) === null) return log("Winograd kernels: built, they load");
  const deps = path.join(tfjsNodeDir, "deps");
  const nodeHeaders = path.resolve(process.execPath, "..", "..", "include", "node");
  if (!fs.existsSync(path.join(nodeHeaders, "node_api.h"))) return skip(`Node's headers are not in ${nodeHeaders}`);
  const flags = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m)?.[1] ?? "" : "";
  // the transforms are compiled for this CPU's vector width (AVX2 with FMA where it has them)
  const isa = process.arch === "x64" && / avx2\b/.test(flags) && / fma\b/.test(flags) ? ["-mavx2", "-mfma"] : [];
  const lib = fs.realpathSync(path.join(deps, "lib", "libtensorflow_framework.so.2"));
  fs.mkdirSync(path.dirname(built), { recursive: true });
  for (const old of fs.readdirSync(path.dirname(built)).filter((f) => /^winograd-.*\.node$/.test(f))) {
    fs.rmSync(path.join(path.dirname(built), old));
  }
  const compiler = process.env.CXX ?? "c++";
  const compiled = run(compiler, [
    "-O3", "-std=c++17", "-shared", "-fPIC", ...isa, `-I${nodeHeaders}`, `-I${path.join(deps, "include")}`,
    source, "-o", built, lib, `-Wl,-rpath,${path.dirname(lib)}`,
  ]);
  if (compiled.status !== 0) {
    const said = compiled.stderr.trim().split("\n").slice(0, 3).join(" ");
    return skip(`${compiler} failed with status ${compiled.status}${said ? `: ${said}` : ""}`);
  }
  const problem = addonProblem(built);
  if (problem !== null) {
    fs.rmSync(built, { force: true });
    return skip(problem);
  }
  log("Winograd kernels: compiled, they load");
}

// ------------------------------------------------------------- tslab kernels

function kernelSpecs() {
  const listed = run(venvPython, ["-m", "jupyter", "kernelspec", "list", "--json"]);
  if (listed.status !== 0) return {};
  return JSON.parse(listed.stdout).kernelspecs ?? {};
}

function ensureKernels() {
  const tslab = bin("tslab");
  const pointsHere = (name) => kernelSpecs()[name]?.spec?.argv?.[0] === tslab;
  if (pointsHere("tslab") && pointsHere("jslab")) {
    log("tslab kernels: registered in .venv");
    return;
  }
  const installed = run(tslab, ["install", `--python=${venvPython}`, "--sys-prefix", `--binary=${tslab}`]);
  if (installed.status !== 0 || !pointsHere("tslab")) {
    throw new SetupError(`Registering the tslab kernel in .venv failed: ${installed.stderr.trim()}`);
  }
  log("tslab kernels: registered in .venv");
}

// ------------------------------------------------------- dependency patches

// patches/ mends dependencies' bugs until their authors do (tslab 1.0.22: a failing
// cell's error as Jupyter's protocol wants it, stop_on_error honoured, and outputs
// sent as few messages, in order, never dropped, so that no output, reply or status is lost;
// tfjs-node 4.22.0's binding: ops take lists of strings and types as attributes).
// patch-package applies each once and recognises a patch already applied. A package
// patched by an older version of its patch (a clone updated with git pull) takes
// neither, so its published files are restored from npm's cache and patched again.
function ensurePatches() {
  const patches = fs.readdirSync(path.join(root, "patches")).filter((f) => f.endsWith(".patch"));
  const apply = () => run(bin("patch-package"), ["--error-on-fail"]);
  let applied = apply();
  if (applied.status !== 0) {
    patches.forEach(restorePublished);
    applied = apply();
  }
  if (applied.status !== 0) {
    throw new SetupError(`Applying patches/ with patch-package failed:\n${applied.stdout}${applied.stderr}`);
  }
  log(`dependency patches: ${patches.join(", ")} applied`);
}

/** The files of the package a patch names (`tslab+1.0.22.patch`, `@scope+name+1.2.3.patch`) as published. */
function restorePublished(patchFile) {
  const parts = patchFile.slice(0, -".patch".length).split("+");
  const version = parts.pop();
  const name = parts.join("/");
  const scratch = fs.mkdtempSync(path.join(root, "node_modules", ".restore-"));
  try {
    // the npm running this install (npm_execpath), which also works where npm is a .cmd (Windows)
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
    const packed = run(npm[0], [...npm.slice(1), "pack", `${name}@${version}`, "--prefer-offline", "--silent", "--pack-destination", scratch]);
    const tarball = packed.stdout.trim().split("\n").pop();
    if (packed.status !== 0 || !tarball || run("tar", ["-xzf", path.join(scratch, tarball), "-C", scratch]).status !== 0) {
      throw new SetupError(`${name}@${version} holds an older patch and could not be restored (${packed.stderr.trim()}). `
        + `Reinstall it: delete node_modules/${name} and run npm install.`);
    }
    fs.cpSync(path.join(scratch, "package"), path.join(root, "node_modules", name), { recursive: true });
    log(`${name}@${version}: published files restored for its new patch`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

// ------------------------------------------------- teachers (--teacher)

// nbgrader, for npm run assignment and npm run autograde; only on request, since students need none of it.
function ensureTeacherTools() {
  const importable = () => run(venvPython, ["-c", "import nbgrader"]).status === 0;
  if (!importable()) {
    log("installing nbgrader into .venv from requirements-teacher.txt");
    if (pip(venvPython, ["install", "-qq", "-r", path.join(root, "requirements-teacher.txt")], log) !== 0 || !importable()) {
      throw new SetupError(
        "pip could not install nbgrader (requirements-teacher.txt) into .venv: it is not on the package indexes pip reaches here (`pip config list`). "
          + "Install it from its source instead, as README's \"For teachers\" says, then run `npm run setup -- --teacher` again.",
      );
    }
  }
  log(`nbgrader: ${run(venvPython, ["-c", "import nbgrader; print(nbgrader.__version__)"]).stdout.trim()} in .venv`);
}

// ------------------------------------------------------------------- helpers

function buildHelpers() {
  if (!compileHelpers()) throw new SetupError("Compiling src/ failed (tsc's messages are above).");
  log("helpers: compiled src/ to dist/");
}

// npm also runs this script for the project's self-link dependency ("deep-convolution":
// "file:.", which lets notebooks import the helpers by name), with its output hidden;
// only that run carries npm_package_resolved. The root run that follows does the work, visibly.
if (process.env.npm_lifecycle_event === "postinstall" && "npm_package_resolved" in process.env) process.exit(0);

try {
  buildHelpers();
  ensureVenv();
  ensureLabSettings();
  // patches first: one of them is to the binding's source, compiled next if it must be
  ensurePatches();
  ensureTensorflowBinding();
  ensureWinograd();
  ensureKernels();
  if (process.argv.includes("--teacher")) ensureTeacherTools();
  log("done");
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`\n[setup] FAILED: ${error.message}\n`);
  process.exit(1);
}

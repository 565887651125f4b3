import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cellWith, notebookCells, root, runInKernel, startLab, tempDir } from "./helpers";

const cells = notebookCells();
const cellIndex = (snippet: string) => cellWith(cells, snippet);
const [importCell, parametersCell] = [cellIndex("from \"deep-convolution\""), cellIndex("let epochs = 6;")];
/** The notebook's first cells with `overrides` injected after the parameters cell, as npm start does. */
const withParameters = (overrides: string) => [cells[importCell]!, cells[parametersCell]!, overrides];

describe("bad parameters in the notebook", () => {
  it("stop the fit cell before any training, with a sentence naming each one and no stack trace", async () => {
    const upToFit = cells.slice(parametersCell + 1, cellIndex("await model.fit(") + 1);
    const results = await runInKernel([...withParameters("const sampleLimit = 300;\nconst epochs = 0;\nconst validationSplit = 1;"), ...upToFit]);
    const fit = results.at(-1)!;
    expect(results.slice(0, -1).filter((r) => r.status !== "ok")).toEqual([]);
    expect(fit.status).toBe("error");
    const text = fit.outputs.join("");
    expect(text).toContain("model.fit: epochs must be a whole number greater than 0, e.g. epochs: 6; got 0.");
    expect(text).toContain("validationSplit must be a number from 0 (no validation) up to, not including, 1, e.g. validationSplit: 0.2; got 1.");
    expect(text).not.toMatch(/Epoch 1\//);
    expect(text).not.toMatch(/\n\s+at /);
  });
});

describe("interrupting the kernel during training", () => {
  it("stops at a batch boundary with a sentence; the finished epochs, the tables and the model stay usable", async () => {
    const results = await runInKernel([
      'import { loadMnist, buildConvNet, adadelta, historyTable } from "deep-convolution";',
      `const data = await loadMnist({ limit: 3000 });
data.reshape([28, 28, 1]); data.rescale(255); data.toCategorical(10);
const model = buildConvNet({ seed: 1 });
model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1 }), metrics: ["accuracy"] });`,
      "const history = await model.fit(data.xTrain, data.yTrain, { batchSize: 64, epochs: 50, validationSplit: 0.2 });",
      `const h = model.history!;
console.log(JSON.stringify({ epochs: h.epoch.length, rows: historyTable(h).shape[0], losses: h.history.loss.length }));
console.log(model.evaluate(data.xTest, data.yTest)[1]);`,
      "const again = await model.fit(data.xTrain, data.yTrain, { batchSize: 64, epochs: 1, validationSplit: 0.2 });\nconsole.log(again.epoch.length, model.history === again);",
    ], { cell: 2, when: "Epoch 3/50" });
    expect(results[2]!.interrupted).toBe(true);
    expect(results[2]!.status).toBe("error");
    const said = results[2]!.outputs.join("");
    const stopped = /Training was interrupted in epoch (\d+) at step \d+\/38\. model\.history keeps the (\d+) finished epochs and the model the weights it had reached; run the cell again to train all 50 epochs\./.exec(said);
    expect(stopped, said).not.toBeNull();
    const summary = JSON.parse(results[3]!.outputs[0]!) as { epochs: number; rows: number; losses: number };
    expect(summary.epochs).toBe(Number(stopped![2]));
    expect(Number(stopped![1])).toBe(summary.epochs + 1); // stopped inside the first unfinished epoch
    expect(summary.epochs).toBeGreaterThanOrEqual(2);
    expect(summary.rows).toBe(summary.epochs);
    expect(summary.losses).toBe(summary.epochs);
    expect(Number(results[3]!.outputs[1])).toBeGreaterThan(0.5);
    expect(results[4]!.status).toBe("ok");
    expect(results[4]!.outputs.at(-1)).toBe("1 true\n");
  });
});

describe("re-running the notebook's cells in one kernel", () => {
  it("keeps the number of live tensors and their bytes flat", async () => {
    const block = cells.slice(cellIndex("await loadMnist("), cellIndex("model2.evaluate(") + 1);
    const probe = 'console.log(JSON.stringify({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes }));';
    const out = tempDir("reruns");
    const head = withParameters(`const sampleLimit = 600;\nconst epochs = 1;\nconst outputDir = ${JSON.stringify(out)};`);
    const results = await runInKernel([...head, ...block, probe, ...block, probe, ...block, probe]);
    expect(results.filter((r) => r.status !== "ok").map((r) => r.outputs.join(""))).toEqual([]);
    const probes = results.filter((_, i) => i >= head.length && (i - head.length) % (block.length + 1) === block.length).map((r) => JSON.parse(r.outputs.join("")));
    expect(probes).toHaveLength(3);
    expect(probes[1]).toEqual(probes[0]);
    expect(probes[2]).toEqual(probes[0]);
  });
});

describe("Ctrl-C on npm start", () => {
  it("stops the run and leaves no half-written file in the output folder", async () => {
    const out = tempDir("interrupted");
    const child = spawn(process.execPath, [path.join(root, "scripts", "start.mjs"), "-p", "epochs", "50", "-p", "sampleLimit", "3000", "-p", "outputDir", out], {
      cwd: root,
      detached: true, // its own process group, like a terminal's foreground job
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        if (stdout.includes("Epoch 2/50") && !child.killed) process.kill(-child.pid!, "SIGINT");
      });
      child.on("exit", (c) => resolve(c));
    });
    expect(stdout).toContain("Epoch 2/50");
    expect(code).not.toBe(0);
    const files = fs.readdirSync(out);
    expect(files.filter((f) => /deep-convolution\.(ipynb|html)$/.test(f) && !f.includes("failed"))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".tmp") || f === "metrics.json")).toEqual([]);
  });
});

describe("signals arriving during training", () => {
  // A kernel interrupt is a SIGINT; oneDNN's sgemm (TensorFlow's MatMul) let a
  // signal handler's frame land in the heap, and the process died later in
  // free() ("corrupted size vs. prev_size") in 2 of 3 runs of this test.
  it("leave the process and its heap intact through 300 steps", async () => {
    const script = `
      const h = require("./dist/index.js");
      process.on("SIGUSR2", () => {});
      (async () => {
        const data = await h.loadMnist({ limit: 128 * 300 });
        data.reshape([28, 28, 1]);
        data.rescale(255);
        data.toCategorical(10);
        const model = h.buildConvNet({ seed: 1, dropoutConv: 0.25, dropoutDense: 0.5 });
        model.compile({ loss: "categoricalCrossentropy", optimizer: h.adadelta({ learningRate: 1 }), metrics: ["accuracy"] });
        console.log("ready");
        const history = await model.fit(data.xTrain, data.yTrain, { batchSize: 128, epochs: 1, verbose: 0 });
        console.log("trained", history.history.loss[0]);
      })();`;
    const child = spawn(process.execPath, ["-e", script], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        if (timer === undefined && stdout.includes("ready")) {
          timer = setInterval(() => child.kill("SIGUSR2") && sent++, 1);
        }
        // Node restores the default action (termination) as it exits.
        if (stdout.includes("trained")) clearInterval(timer);
      });
      child.on("exit", (code, signal) => resolve({ code, signal }));
    });
    clearInterval(timer);
    expect({ ...exit, lastError: stderr.trim().split("\n").at(-1) }).toMatchObject({ code: 0, signal: null });
    expect(sent).toBeGreaterThan(1000);
    const loss = Number(/trained (\S+)/.exec(stdout)?.[1]);
    expect(loss).toBeGreaterThan(0);
    expect(loss).toBeLessThan(1);
  }, 120_000);
});

describe("a missing native binding", () => {
  it("is reported with what is missing and the one command that repairs it", async () => {
    // Simulate a removed tfjs_binding.node: refuse to load it, as Node does for a missing file.
    const preload = path.join(tempDir("preload"), "no-binding.cjs");
    fs.writeFileSync(preload, `const Module = require("module"); const load = Module._load;
Module._load = function (request, ...rest) {
  if (String(request).endsWith("tfjs_binding.node")) { const e = new Error("Cannot find module '" + request + "'"); e.code = "MODULE_NOT_FOUND"; throw e; }
  return load.call(this, request, ...rest);
};`);
    const run = spawnSync(process.execPath, ["--require", preload, "-e", "require('./dist/index.js')"], { cwd: root, encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/TensorFlow's native binding for @tensorflow\/tfjs-node is missing or broken \(.*tfjs_binding\.node.*\)\. Repair it from the project folder with: npm run setup/);
  });
});

describe("npm run lab", () => {
  it("listens on localhost only and wants a token", async () => {
    const lab = await startLab();
    try {
      const { port, token } = lab;
      expect(lab.url).toContain(`127.0.0.1:${port}`);
      expect((await fetch(`http://127.0.0.1:${port}/api/kernelspecs`)).status).toBe(403);
      const specs = await fetch(`http://127.0.0.1:${port}/api/kernelspecs`, { headers: { Authorization: `token ${token}` } });
      expect(specs.status).toBe(200);
      expect(Object.keys(((await specs.json()) as { kernelspecs: object }).kernelspecs)).toContain("tslab");
      const listening = spawnSync("ss", ["-ltn", `sport = :${port}`], { encoding: "utf8" }).stdout;
      expect(listening).toContain(`127.0.0.1:${port}`);
      expect(listening).not.toMatch(new RegExp(`(0\\.0\\.0\\.0|\\*|\\[::\\]):${port}`));
    } finally {
      await lab.stop();
    }
  });
});

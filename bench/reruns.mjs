// `npm run bench -- --reruns 12`: what a student's afternoon does to the kernel's memory.
// In one tslab kernel, the notebook's first cells run once (quick parameters: 2,000
// images, 1 epoch), then model_1's cells (layers, summary, compile, fit with its live
// chart and save) N times, as a student re-runs them after each change. After each
// round the kernel reports its RSS and live tensors. Goal: RSS grows by at most
// 150 MB from the first round to the last. Prints the figures and appends a line to
// docs/bench-history.jsonl.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { cellWith, notebookCells, projectPython, root } from "../scripts/project.mjs";

const GROWTH_GOAL_MB = 150;

export function reruns(rounds, host) {
  const cells = notebookCells();
  const python = projectPython();
  const outputDir = fs.mkdtempSync(path.join(os.tmpdir(), "reruns-"));
  const head = [
    cells[cellWith(cells, 'from "deep-convolution"')],
    cells[cellWith(cells, "let epochs = 6;")],
    `const sampleLimit = 2000;\nconst epochs = 1;\nconst outputDir = ${JSON.stringify(outputDir)};`,
    ...cells.slice(cellWith(cells, "await loadMnist("), cellWith(cells, "data.toCategorical(") + 1),
  ];
  const block = cells.slice(cellWith(cells, 'layers.sequential({ name: "model_1" })'), cellWith(cells, "await model.fit(") + 1);
  const probe = "console.log(JSON.stringify({ rssMb: process.memoryUsage().rss / 2 ** 20, tensors: tf.memory().numTensors }));";
  const all = [...head, ...Array.from({ length: rounds }, () => [...block, probe]).flat()];
  console.log(`Re-running model_1's cells (${block.length} cells: layers, summary, compile, fit) ${rounds} times in one kernel, 2,000 images, 1 epoch.`);
  const driver = spawnSync(python, [path.join(root, "scripts", "kernel_driver.py")], {
    input: JSON.stringify({ cells: all, cwd: path.join(root, "notebooks") }), encoding: "utf8", maxBuffer: 1 << 28,
  });
  fs.rmSync(outputDir, { recursive: true, force: true });
  if (driver.status !== 0) {
    console.error(`The kernel run failed:\n${driver.stderr.split("\n").slice(-15).join("\n")}`);
    process.exit(1);
  }
  const results = JSON.parse(driver.stdout.trim().split("\n").pop());
  const failed = results.findIndex((r) => r.status !== "ok");
  if (failed >= 0) {
    console.error(`Cell ${failed} of the run failed:\n${results[failed].outputs.join("").slice(-2000)}`);
    process.exit(1);
  }
  const probes = results.filter((_, i) => i >= head.length && (i - head.length) % (block.length + 1) === block.length)
    .map((r) => JSON.parse(r.outputs.join("")));
  const rss = probes.map((p) => p.rssMb);
  const growth = rss.at(-1) - rss[0];
  probes.forEach((p, i) => console.log(`  round ${String(i + 1).padStart(2)}: RSS ${Math.round(p.rssMb)} MB, ${p.tensors} live tensors`));
  const met = growth <= GROWTH_GOAL_MB;
  const verdict = `goal: RSS grows by at most ${GROWTH_GOAL_MB} MB over ${rounds} re-runs, ${met ? "met" : "NOT met"}: `
    + `${Math.round(rss[0])} → ${Math.round(rss.at(-1))} MB (${growth >= 0 ? "+" : "−"}${Math.round(Math.abs(growth))}), highest ${Math.round(Math.max(...rss))}; `
    + `live tensors ${probes[0].tensors} → ${probes.at(-1).tensors}`;
  console.log(`verdict: ${verdict}`);
  const line = { date: new Date().toISOString(), machine: host, method: { mode: "reruns", rounds, sampleLimit: 2000, epochs: 1 }, rssMb: rss.map(Math.round), tensors: probes.map((p) => p.tensors), verdict };
  fs.appendFileSync(path.join(root, "docs", "bench-history.jsonl"), `${JSON.stringify(line)}\n`);
}

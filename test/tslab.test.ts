/**
 * The tslab kernel speaks Jupyter's protocol as ipykernel does (patches/tslab+1.0.22.patch,
 * applied by npm install): a failing cell publishes an `error` output and its
 * execute_reply carries ename, evalue and traceback; queued cells are aborted
 * only when the failing request asks for it (stop_on_error); and no output,
 * reply or idle status is lost, however fast a cell prints: stdout and stderr
 * are sent as few messages, a display's updates are reduced to its latest state,
 * and IOPub waits for a slow client instead of dropping.
 * Talked to with jupyter_client and nbconvert, no nbgrader.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { executeNotebook, joined, makeNotebook, outputsOf, root, run, scratchDir, venvPython, type Notebook } from "./helpers";

interface Message {
  msg_type: string;
  content: {
    name?: string;
    text?: string;
    ename?: string;
    evalue?: string;
    traceback?: string[];
    data?: Record<string, string>;
    transient?: { display_id?: string };
  };
}

interface Exchange {
  /** The execute_reply's content; null if none came. */
  reply: { status: string; execution_count?: number; ename?: string; evalue?: string; traceback?: string[] } | null;
  iopub: Message[];
  /** Whether the idle status for this request came. */
  idle: boolean;
}

interface Request {
  code: string;
  stop_on_error?: boolean;
}

/**
 * Sends every request at once, as a frontend queues cells, and returns each one's
 * reply, outputs and idle status, with what the kernel wrote to its log.
 */
async function exchangeWithLog(requests: Request[], options: { stuckSubscriberUntilLog?: string } = {}) {
  const spec = {
    requests,
    cwd: path.join(root, "notebooks"),
    ...(options.stuckSubscriberUntilLog ? { stuck_subscriber: { release_on_log: options.stuckSubscriberUntilLog } } : {}),
  };
  const result = await run(venvPython, [path.join(root, "test", "tslab_protocol.py")], { input: JSON.stringify(spec) });
  if (result.status !== 0) throw new Error(`tslab_protocol.py failed: ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout.trim().split("\n").pop()!) as { cells: Exchange[]; log: string };
}

async function exchange(requests: Request[]): Promise<Exchange[]> {
  return (await exchangeWithLog(requests)).cells;
}

/** Everything a cell wrote to one stream, in the order received. */
const streamText = (cell: Exchange, name = "stdout") =>
  cell.iopub.filter((m) => m.msg_type === "stream" && m.content.name === name).map((m) => m.content.text).join("");

const numbered = (prefix: string, count: number, step = 1, from = 0) =>
  Array.from({ length: count }, (_, i) => `${prefix} ${from + i * step}`);

/** A cell that ran to its end, with its reply and idle status, printing `text` on stdout and nothing else. */
function expectQuietCell(cell: Exchange | undefined, count: number, text: string) {
  expect(cell!.reply).toEqual({ status: "ok", execution_count: count });
  expect(cell!.idle).toBe(true);
  expect(cell!.iopub.map((m) => [m.msg_type, m.content.name, m.content.text])).toEqual([["stream", "stdout", text]]);
}

describe("the tslab kernel on Jupyter's protocol", () => {
  it("reports a thrown error as an error output and in the reply, and runs the next cell when stop_on_error is false", async () => {
    const [failed, next, compileError, afterCompileError] = await exchange([
      { code: 'function check() { throw new RangeError("boom"); }\ncheck();', stop_on_error: false },
      { code: 'console.log("next cell ran");', stop_on_error: false },
      { code: 'const n: number = "x";', stop_on_error: false },
      { code: "console.log(1 + 1);", stop_on_error: false },
    ]);
    expect(failed!.reply).toMatchObject({ status: "error", execution_count: 1, ename: "RangeError", evalue: "boom" });
    expect(failed!.reply!.traceback).toContain("RangeError: boom");
    expect(failed!.reply!.traceback!.some((line) => /^\s+at check \(/.test(line))).toBe(true);
    // only the cell's own frames, none of the vm's or tslab's
    expect(failed!.reply!.traceback!.filter((line) => /node:vm|tslab[\\/]dist/.test(line))).toEqual([]);
    const errors = failed!.iopub.filter((m) => m.msg_type === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.content).toEqual({ ename: "RangeError", evalue: "boom", traceback: failed!.reply!.traceback });
    expect(failed!.iopub.filter((m) => m.msg_type === "stream")).toEqual([]); // not also printed on stderr

    expect(next!.reply).toEqual({ status: "ok", execution_count: 2 });
    expect(next!.iopub.map((m) => m.content.text)).toEqual(["next cell ran\n"]);

    expect(compileError!.reply).toMatchObject({ status: "error", ename: "TSError", evalue: "1:7 - Type 'string' is not assignable to type 'number'." });
    expect(compileError!.iopub.map((m) => m.msg_type)).toEqual(["error"]);
    expect(afterCompileError!.iopub.map((m) => m.content.text)).toEqual(["2\n"]);
  });

  it("delivers every line, reply and idle status of queued cells that print, alternate streams and update a display faster than any client reads", async () => {
    // One message per console.log overran zeromq's high-water mark (1000): lines, the next
    // cells' outputs and their idle statuses were dropped, and clients waited for ever.
    const cells = await exchange([
      { code: "for (let i = 0; i < 20000; i++) console.log(`line ${i}`);" },
      { code: 'console.log("after the long cell");' },
      { code: "for (let i = 0; i < 2250; i++) console.log(`batch ${i}`);" },
      { code: 'console.log("after the batches");' },
      { code: "for (let i = 0; i < 4000; i++) (i % 2 ? console.error : console.log)(`out ${i}`);" },
      { code: 'console.log("after both streams");' },
      { code: 'import * as tslab from "tslab";\nconst shown = tslab.newDisplay();\nfor (let i = 0; i < 10000; i++) shown.text(`state ${i}`);' },
      { code: 'console.log("after the display");' },
    ]);
    const [long, afterLong, batches, afterBatches, both, afterBoth, display, afterDisplay] = cells;
    for (const [cell, count] of [[long, 1], [batches, 3], [both, 5], [display, 7]] as const) {
      expect(cell!.reply).toEqual({ status: "ok", execution_count: count });
      expect(cell!.idle).toBe(true);
    }
    expect(streamText(long!).split("\n").slice(0, -1)).toEqual(numbered("line", 20000));
    expect(long!.iopub.length).toBeLessThanOrEqual(5); // a few messages, not 20,000
    expectQuietCell(afterLong, 2, "after the long cell\n");
    expect(streamText(batches!).split("\n").slice(0, -1)).toEqual(numbered("batch", 2250));
    expectQuietCell(afterBatches, 4, "after the batches\n");
    // every line of each stream, in order within it
    expect(streamText(both!, "stdout").split("\n").slice(0, -1)).toEqual(numbered("out", 2000, 2));
    expect(streamText(both!, "stderr").split("\n").slice(0, -1)).toEqual(numbered("out", 2000, 2, 1));
    expectQuietCell(afterBoth, 6, "after both streams\n");
    // the display shown once, then its latest state: nothing in between is owed
    expect(display!.iopub[0]).toMatchObject({ msg_type: "display_data", content: { data: { "text/plain": "state 0" } } });
    expect(display!.iopub.slice(1).every((m) => m.msg_type === "update_display_data")).toBe(true);
    expect(display!.iopub.at(-1)!.content.data).toEqual({ "text/plain": "state 9999" });
    expect(display!.iopub.length).toBeLessThanOrEqual(5);
    expectQuietCell(afterDisplay, 8, "after the display\n");
  }, 300_000);

  it("keeps stdout and stderr in the order written across sends, and every output before the next cell's", async () => {
    const pause = "await new Promise((resolve) => setTimeout(resolve, 400));";
    const [cell, next] = await exchange([
      { code: `console.log("first"); ${pause} console.error("second"); ${pause} console.log("third"); ${pause}\nconst late = setTimeout(() => console.log("late"), 100);` },
      { code: 'await new Promise((resolve) => setTimeout(resolve, 300)); console.log("next");' },
    ]);
    expect(cell!.iopub.map((m) => [m.content.name, m.content.text])).toEqual([["stdout", "first\n"], ["stderr", "second\n"], ["stdout", "third\n"]]);
    // tslab sends what is written after a cell to the cell running then, as ipykernel does
    expect(streamText(next!)).toBe("late\nnext\n");
  });

  it("waits for a client that stopped reading, says so once on the kernel's log, and loses nothing once it reads again", async () => {
    // A second subscriber that never reads (as a client that stopped reading): IOPub
    // meets its high-water mark, and the kernel waits instead of dropping for every client.
    const { cells: [shown, next], log } = await exchangeWithLog([
      { code: 'import * as tslab from "tslab";\nfor (let i = 0; i < 3000; i++) tslab.display.text(`output ${i} ` + "x".repeat(10000));' },
      { code: 'console.log("next cell ran");' },
    ], { stuckSubscriberUntilLog: "has not read" });
    expect(log.match(/tslab: the client has not read the kernel's messages for 10 s; they are kept, in order, until it reads again/g)).toHaveLength(1);
    expect(log).toMatch(/tslab: the client reads again after \d+ s; no message was lost/);
    expect(log).not.toContain("lost:");
    expect(shown!.reply).toEqual({ status: "ok", execution_count: 1 });
    expect(shown!.idle).toBe(true);
    expect(shown!.iopub.map((m) => m.content.data!["text/plain"]!.split(" ").slice(0, 2).join(" "))).toEqual(numbered("output", 3000));
    expectQuietCell(next, 2, "next cell ran\n");
  }, 300_000);

  it("sends a bounded number of messages for a fit at batch size 32 (1,500 steps) with a chart redrawn after every batch, and shows the same final output", async () => {
    const fit = [
      'import { tf, kerasLayers, adadelta, liveChart } from "deep-convolution";',
      "const layers = kerasLayers(1);",
      'const model = layers.sequential({ name: "tiny" });',
      'model.add(layers.dense({ units: 10, activation: "softmax", inputShape: [4] }));',
      'model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1 }), metrics: ["accuracy"] });',
      "const x = tf.randomUniform([60000, 4], 0, 1, \"float32\", 1);",
      "const y = tf.oneHot(tf.randomUniform([60000], 0, 10, \"int32\", 2), 10).toFloat();",
      "const chart = liveChart({ intervalMs: 0 });",
      "const started = performance.now();",
      "await model.fit(x, y, { batchSize: 32, epochs: 1, verbose: 1, validationSplit: 0.2, callbacks: [chart] });",
      "console.log(JSON.stringify({ ms: performance.now() - started, frames: chart.frames }));",
    ].join("\n");
    const [cell] = await exchange([{ code: fit }]);
    expect(cell!.reply).toEqual({ status: "ok", execution_count: 1 });
    expect(cell!.idle).toBe(true);
    const { ms, frames } = JSON.parse(streamText(cell!)) as { ms: number; frames: number };
    expect(frames).toBeGreaterThan(1500); // the chart drew every batch...
    // ...but per 200 ms interval the kernel sends at most two states of each of the two displays
    const updates = cell!.iopub.filter((m) => m.msg_type === "update_display_data");
    expect(updates.length).toBeLessThanOrEqual(4 * (Math.ceil(ms / 200) + 2));
    expect(cell!.iopub.filter((m) => m.msg_type === "display_data")).toHaveLength(2); // the progress and the chart
    const last = (id: string) => cell!.iopub.filter((m) => m.content.transient?.display_id === id).at(-1)!.content.data!;
    const [progress, chartId] = cell!.iopub.filter((m) => m.msg_type === "display_data").map((m) => m.content.transient!.display_id!);
    expect(last(progress!)["text/plain"]).toMatch(/^Epoch 1\/1\n1500\/1500 \[=+\] - \d+s \d+ms\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$/);
    expect(Object.keys(last(chartId!))).toContain("application/vnd.plotly.v1+json");
    expect(last(chartId!)["text/plain"]).toBe("<Plotly figure: tiny: training history>");
  }, 300_000);

  it("writes every line of a 20,000-line cell into the notebook executed headless (nbclient, as npm start does)", async () => {
    const file = path.join(scratchDir("long-output"), "long.ipynb");
    fs.writeFileSync(file, JSON.stringify(makeNotebook([
      "for (let i = 0; i < 20000; i++) console.log(`line ${i}`);",
      'console.log("after");',
    ])));
    const { status, stderr, executed } = await executeNotebook(file);
    expect(status, stderr).toBe(0);
    const outputs = outputsOf(executed!);
    expect(outputs.filter((o) => o.cell === 0).map((o) => joined(o.text)).join("").split("\n").slice(0, -1)).toEqual(numbered("line", 20000));
    expect(outputs.filter((o) => o.cell === 1).map((o) => joined(o.text))).toEqual(["after\n"]);
  });

  it("still aborts the queued cells after an error when stop_on_error is true, Jupyter's default", async () => {
    const [failed, queued] = await exchange([{ code: 'throw new Error("stop here");' }, { code: 'console.log("must not run");' }]);
    expect(failed!.reply).toMatchObject({ status: "error", ename: "Error", evalue: "stop here" });
    expect(queued!.reply!.status).toBe("abort");
    expect(queued!.iopub).toEqual([]);
  });

  it("leaves the error in the saved notebook (nbconvert --allow-errors), and npm run check refuses it, naming the cell", async () => {
    const dir = scratchDir("errors");
    const file = path.join(dir, "handed-in.ipynb");
    fs.writeFileSync(file, JSON.stringify(makeNotebook([
      "const answer = 42;",
      'throw new Error("the model was not trained");',
      "console.log(answer);",
    ])));
    const converted = await run(venvPython, ["-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--inplace", file]);
    expect(converted.status, converted.stderr).toBe(0);
    const nb = JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
    const outputs = outputsOf(nb);
    expect(outputs.filter((o) => o.output_type === "error").map((o) => [o.cell, o.ename, o.evalue])).toEqual([[1, "Error", "the model was not trained"]]);
    expect(outputs.filter((o) => o.cell === 2).map((o) => joined(o.text))).toEqual(["42\n"]); // the cell after it ran
    const check = await run(process.execPath, [path.join(root, "scripts", "check.mjs"), file]);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain('cell 2 (throw new Error("the model was not trained");) shows an error: Error: the model was not trained.');
  });
});

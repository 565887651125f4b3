/**
 * The tslab kernel speaks Jupyter's error protocol (patches/tslab+1.0.22.patch,
 * applied by npm install): a failing cell publishes an `error` output and its
 * execute_reply carries ename, evalue and traceback; queued cells are aborted
 * only when the failing request asks for it (stop_on_error), as in ipykernel;
 * no output or reply is lost, however many a cell sends at once.
 * Talked to with jupyter_client and nbconvert, no nbgrader.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { joined, makeNotebook, outputsOf, root, run, scratchDir, venvPython, type Notebook } from "./helpers";

interface Exchange {
  reply: { status: string; execution_count?: number; ename?: string; evalue?: string; traceback?: string[] };
  iopub: Array<{ msg_type: string; content: { name?: string; text?: string; ename?: string; evalue?: string; traceback?: string[] } }>;
}

/** Sends every request at once, as a frontend queues cells, and returns each one's reply and outputs. */
async function exchange(requests: Array<{ code: string; stop_on_error?: boolean }>): Promise<Exchange[]> {
  const result = await run(venvPython, [path.join(root, "test", "tslab_protocol.py")], {
    input: JSON.stringify({ requests, cwd: path.join(root, "notebooks") }),
  });
  if (result.status !== 0) throw new Error(`tslab_protocol.py failed: ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout.trim().split("\n").pop()!) as Exchange[];
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
    expect(failed!.reply.traceback).toContain("RangeError: boom");
    expect(failed!.reply.traceback!.some((line) => /^\s+at check \(/.test(line))).toBe(true);
    // only the cell's own frames, none of the vm's or tslab's
    expect(failed!.reply.traceback!.filter((line) => /node:vm|tslab[\\/]dist/.test(line))).toEqual([]);
    const errors = failed!.iopub.filter((m) => m.msg_type === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.content).toEqual({ ename: "RangeError", evalue: "boom", traceback: failed!.reply.traceback });
    expect(failed!.iopub.filter((m) => m.msg_type === "stream")).toEqual([]); // not also printed on stderr

    expect(next!.reply).toEqual({ status: "ok", execution_count: 2 });
    expect(next!.iopub.map((m) => m.content.text)).toEqual(["next cell ran\n"]);

    expect(compileError!.reply).toMatchObject({ status: "error", ename: "TSError", evalue: "1:7 - Type 'string' is not assignable to type 'number'." });
    expect(compileError!.iopub.map((m) => m.msg_type)).toEqual(["error"]);
    expect(afterCompileError!.iopub.map((m) => m.content.text)).toEqual(["2\n"]);
  });

  it("delivers every output and the reply of a cell that prints more at once than zeromq sends without waiting (512)", async () => {
    // zeromq.js defers the 513th send in a row; tslab sent without waiting, so the next
    // one threw, and the outputs and the cell's reply were lost: the frontend waited for ever
    const [loud, next] = await exchange([{ code: "for (let i = 0; i < 1000; i++) console.log(`line ${i}`);" }, { code: 'console.log("next cell ran");' }]);
    expect(loud!.reply).toEqual({ status: "ok", execution_count: 1 });
    const printed = loud!.iopub.map((m) => m.content.text).join("");
    expect(printed.split("\n").filter(Boolean)).toEqual(Array.from({ length: 1000 }, (_, i) => `line ${i}`));
    expect(next!.reply).toEqual({ status: "ok", execution_count: 2 });
    expect(next!.iopub.map((m) => m.content.text)).toEqual(["next cell ran\n"]);
  }, 300_000);

  it("still aborts the queued cells after an error when stop_on_error is true, Jupyter's default", async () => {
    const [failed, queued] = await exchange([{ code: 'throw new Error("stop here");' }, { code: 'console.log("must not run");' }]);
    expect(failed!.reply).toMatchObject({ status: "error", ename: "Error", evalue: "stop here" });
    expect(queued!.reply.status).toBe("abort");
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

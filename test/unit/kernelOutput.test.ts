/**
 * The kernel's IOPub outbox (patches/tslab+1.0.22.patch): what a cell writes goes
 * out as few messages, in the order written. test/tslab.test.ts checks the same
 * through a real kernel and client; here each rule alone, with no sockets.
 */
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { IopubOutbox as Outbox } from "tslab/dist/jupyter";

const { IopubOutbox } = createRequire(__filename)("tslab/dist/jupyter") as { IopubOutbox: typeof Outbox };

interface Parent {
  header: { msg_id: string };
}
const cell = (id: string): Parent => ({ header: { msg_id: id } });

/** An outbox that records what it publishes as [parent id, message type, content]. */
function outbox(options: { intervalMs?: number; maxStreamChars?: number } = {}) {
  const sent: Array<[string, string, Record<string, unknown>]> = [];
  const box = new IopubOutbox<Parent>((parent, msgType, content) => sent.push([parent.header.msg_id, msgType, content as Record<string, unknown>]), options);
  return { box, sent };
}

const text = (id: string, value: string) => ({ data: { "text/plain": value }, metadata: {}, transient: { display_id: id } });
const plot = (id: string, value: string) => ({ data: { "application/vnd.plotly.v1+json": value, "text/plain": "<Plotly figure>" }, metadata: {}, transient: { display_id: id } });

describe("the kernel's IOPub outbox", () => {
  it("sends the first write at once, then a stream's writes within an interval as one message per stream, in the order first written", () => {
    const { box, sent } = outbox({ intervalMs: 60_000 });
    const a = cell("a");
    box.stream(a, "stdout", "first\n");
    expect(sent).toEqual([["a", "stream", { name: "stdout", text: "first\n" }]]);
    for (let i = 0; i < 1000; i++) box.stream(a, i % 2 ? "stdout" : "stderr", `${i}\n`);
    expect(sent).toHaveLength(1); // waiting for the interval
    box.flush();
    const even = Array.from({ length: 500 }, (_, i) => `${2 * i}\n`).join("");
    const odd = Array.from({ length: 500 }, (_, i) => `${2 * i + 1}\n`).join("");
    expect(sent.slice(1)).toEqual([["a", "stream", { name: "stderr", text: even }], ["a", "stream", { name: "stdout", text: odd }]]);
  });

  it("sends what waits before any other message, so the order seen is the order written", () => {
    const { box, sent } = outbox({ intervalMs: 60_000 });
    const a = cell("a");
    box.flush();
    box.stream(a, "stdout", "before\n");
    box.updateDisplay(a, text("progress", "1/10"));
    box.send(a, "display_data", { data: { "text/plain": "table" }, metadata: {}, transient: {} });
    box.stream(a, "stdout", "after\n");
    box.send(a, "status", { execution_state: "idle" });
    expect(sent.map(([, type, content]) => [type, content.text ?? (content.data as Record<string, string> | undefined)?.["text/plain"] ?? content.execution_state]))
      .toEqual([["stream", "before\n"], ["update_display_data", "1/10"], ["display_data", "table"], ["stream", "after\n"], ["status", "idle"]]);
  });

  it("keeps only a display's latest state within an interval, and the state before it when the MIME types change", () => {
    const { box, sent } = outbox({ intervalMs: 60_000 });
    const a = cell("a");
    box.flush();
    for (let i = 1; i <= 1000; i++) box.updateDisplay(a, text("progress", `${i}/1000`));
    box.flush();
    expect(sent).toEqual([["a", "update_display_data", text("progress", "1000/1000")]]);

    // A live chart: plain text in between makes JupyterLab draw each frame anew.
    sent.length = 0;
    for (let frame = 1; frame <= 50; frame++) {
      box.updateDisplay(a, text("chart", "<redraw>"));
      box.updateDisplay(a, plot("chart", `frame ${frame}`));
    }
    box.flush();
    expect(sent.map(([, , content]) => content)).toEqual([text("chart", "<redraw>"), plot("chart", "frame 50")]);
  });

  it("keeps displays and cells apart, and sends an update without a display id as it comes", () => {
    const { box, sent } = outbox({ intervalMs: 60_000 });
    box.flush();
    box.updateDisplay(cell("a"), text("one", "a1"));
    box.updateDisplay(cell("a"), text("two", "b1"));
    box.stream(cell("a"), "stdout", "from a\n");
    box.stream(cell("b"), "stdout", "from b\n");
    box.updateDisplay(cell("b"), text("one", "a2"));
    box.flush();
    expect(sent.map(([id, type, content]) => [id, type, content.text ?? (content.data as Record<string, string>)["text/plain"]]))
      .toEqual([["b", "update_display_data", "a2"], ["a", "update_display_data", "b1"], ["a", "stream", "from a\n"], ["b", "stream", "from b\n"]]);
    sent.length = 0;
    box.updateDisplay(cell("a"), { data: { "text/plain": "no id" }, metadata: {}, transient: {} });
    expect(sent).toHaveLength(1);
  });

  it("sends streams at once when maxStreamChars wait, and otherwise when the interval has passed, by a timer if nothing else is written", async () => {
    const big = outbox({ intervalMs: 60_000, maxStreamChars: 10 });
    big.box.flush();
    big.box.stream(cell("a"), "stdout", "12345");
    expect(big.sent).toHaveLength(0);
    big.box.stream(cell("a"), "stdout", "67890");
    expect(big.sent).toEqual([["a", "stream", { name: "stdout", text: "1234567890" }]]);

    const timed = outbox({ intervalMs: 50 });
    timed.box.flush();
    timed.box.stream(cell("a"), "stdout", "waits\n");
    timed.box.updateDisplay(cell("a"), text("progress", "1/2"));
    expect(timed.sent).toHaveLength(0);
    await sleep(150);
    expect(timed.sent.map(([, type]) => type)).toEqual(["stream", "update_display_data"]);
    // a loop that never yields to timers still sends once the interval has passed
    const started = performance.now();
    while (performance.now() - started < 60) timed.box.stream(cell("a"), "stdout", ".");
    expect(timed.sent.length).toBeGreaterThan(2);
  });
});

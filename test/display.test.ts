import { createRequire } from "node:module";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { adadelta } from "../src/engine/adadelta";
import { plotHistory } from "../src/report/charts";
import { show } from "../src/notebook/display";
import { liveChart } from "../src/notebook/liveChart";
import { buildConvNet } from "../src/training/models";
import { closeRenderer } from "../src/browser/render";
import { historyTable } from "../src/report/tables";
import { preparedMnist } from "./mnist";

interface Message {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

// What tslab's kernel would send: display.ts writes through tslab's own writer.
const jupyter = createRequire(__filename)("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };
const sent: Array<{ message: Message; update: boolean }> = [];

function kernel() {
  sent.length = 0;
  jupyter.lastWriteDisplayData = (message: Message, update: boolean) => sent.push({ message, update });
}

afterEach(() => {
  jupyter.lastWriteDisplayData = null;
});
afterAll(() => closeRenderer());

describe("show in a kernel", () => {
  it("relies on tslab's display writer, which tslab 1.0.22 keeps in dist/jupyter", () => {
    expect(jupyter).toHaveProperty("lastWriteDisplayData");
  });

  it("sends a table as one output with HTML and plain text", async () => {
    kernel();
    const history = { epoch: [0], history: { loss: [0.5], accuracy: [0.8], val_loss: [0.4], val_accuracy: [0.85], seconds: [3] }, params: {} } as never;
    await show(historyTable(history));
    expect(sent).toHaveLength(1);
    expect(Object.keys(sent[0]!.message.data).sort()).toEqual(["text/html", "text/plain"]);
    expect(sent[0]!.message.data["text/html"]).toContain("<td>0.8500</td>");
  });

  it("sends a chart as one output with the Plotly figure, a PNG of it and a title", async () => {
    kernel();
    await show(plotHistory({ title: "LOSS", yLabel: "loss", series: { loss: [0.5, 0.2], val_loss: [0.3, 0.25] } }));
    expect(sent).toHaveLength(1);
    const { data, metadata } = sent[0]!.message;
    expect(Object.keys(data).sort()).toEqual(["application/vnd.plotly.v1+json", "image/png", "text/plain"]);
    expect((data["application/vnd.plotly.v1+json"] as { layout: { title: { text: string } } }).layout.title.text).toBe("LOSS");
    expect(Buffer.from(data["image/png"] as string, "base64").subarray(1, 4).toString()).toBe("PNG");
    expect(metadata["image/png"]).toEqual({ width: 720, height: 420, alt: "LOSS; loss: loss and val_loss against epoch (1 to 2)" });
    expect(data["text/plain"]).toBe("<Plotly figure: LOSS>");
  });

  it("shows fit's progress in one output updated in place, and the live chart in another, its last frame with a PNG", async () => {
    const data = await preparedMnist(300);
    const model = buildConvNet({ seed: 1, name: "display-test" });
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1 }), metrics: ["accuracy"] });
    kernel();
    const chart = liveChart({ intervalMs: 0 });
    await model.fit(data.xTrain, data.yTrain, { batchSize: 64, epochs: 2, validationSplit: 0.2, callbacks: [chart] });
    // two outputs, each sent once and then updated in place: the progress first, above the chart
    const ids = [...new Set(sent.map((s) => s.message.transient.display_id))];
    expect(ids).toHaveLength(2);
    const [progress, chartOutput] = ids.map((id) => sent.filter((s) => s.message.transient.display_id === id));
    for (const output of [progress!, chartOutput!]) {
      expect(output[0]!.update).toBe(false);
      expect(output.slice(1).every((s) => s.update)).toBe(true);
    }
    const frames = chartOutput!.filter((s) => "application/vnd.plotly.v1+json" in s.message.data);
    // between two frames, a text-only update, so JupyterLab draws the next frame with a new renderer
    const kinds = chartOutput!.map((s) => ("application/vnd.plotly.v1+json" in s.message.data ? "frame" : "text"));
    expect(kinds).toEqual(frames.flatMap((_, i) => (i === 0 ? ["frame"] : ["text", "frame"])));
    expect(progress!.every((s) => Object.keys(s.message.data).join() === "text/plain")).toBe(true);
    const text = progress!.at(-1)!.message.data["text/plain"] as string;
    expect(text).toMatch(
      /^Epoch 1\/2\n4\/4 \[=+\] - \d+s \d+ms\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}\nEpoch 2\/2\n4\/4 \[=+\] - /,
    );
    // one frame at the start, one per batch (intervalMs 0), one per epoch, and the last one with its image
    expect(frames).toHaveLength(1 + 2 * 4 + 2 + 1);
    expect(chart.frames).toBe(frames.length);
    type Plot = { data: Array<{ name: string; x: number[]; y: number[] }>; layout: { title: { text: string } } };
    const plot = (i: number) => frames[i]!.message.data["application/vnd.plotly.v1+json"] as Plot;
    expect(plot(0).layout.title.text).toBe("display-test: training history");
    expect(plot(2).data.find((t) => t.name === "loss")!.x).toEqual([0.5]); // halfway through epoch 1
    const last = plot(frames.length - 1);
    expect(last.data.map((t) => t.name)).toEqual(["loss", "val_loss", "accuracy", "val_accuracy"]);
    expect(last.data.find((t) => t.name === "val_accuracy")!.y).toEqual(model.history!.history.val_accuracy);
    expect(last.data.find((t) => t.name === "loss")!.x).toEqual([1, 2]);
    expect(Buffer.from(frames.at(-1)!.message.data["image/png"] as string, "base64").subarray(1, 4).toString()).toBe("PNG");
    expect(frames.slice(0, -1).every((f) => !("image/png" in f.message.data))).toBe(true); // only the last frame is drawn by the browser
  });
});

import { createRequire } from "node:module";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { adadelta } from "../src/model/adadelta";
import { plotHistory } from "../src/report/charts";
import { loadMnist } from "../src/data/mnist";
import { show, trainWithProgress } from "../src/notebook/display";
import { buildConvNet } from "../src/model/models";
import { closeRenderer } from "../src/browser/render";
import { historyTable } from "../src/report/tables";

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
    expect(metadata["image/png"]).toEqual({ width: 720, height: 420 });
    expect(data["text/plain"]).toBe("<Plotly figure: LOSS>");
  });

  it("shows training progress in one output, updated in place", async () => {
    const data = await loadMnist({ limit: 300 });
    data.reshape([28, 28, 1]);
    data.rescale(255);
    data.toCategorical(10);
    const model = buildConvNet({ seed: 1, name: "display-test" });
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1 }), metrics: ["accuracy"] });
    kernel();
    await trainWithProgress(model, data.xTrain, data.yTrain, { epochs: 2, batchSize: 64, validationSplit: 0.2, seed: 1 });
    const ids = new Set(sent.map((s) => s.message.transient.display_id));
    expect(ids.size).toBe(1);
    expect(sent[0]!.update).toBe(false);
    expect(sent.slice(1).every((s) => s.update)).toBe(true);
    const text = sent.at(-1)!.message.data["text/plain"] as string;
    expect(text).toMatch(
      /^Epoch 1\/2\n4\/4 \[=+\] - \d+s \d+ms\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}\nEpoch 2\/2\n4\/4 \[=+\] - /,
    );
  });
});

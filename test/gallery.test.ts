import { describe, expect, it } from "vitest";
import { tf } from "../src/core/backend";
import { loadMnist } from "../src/data/mnist";
import { mistakeGallery, sampleGrid, type TestReport } from "../src/report/gallery";
import { tileGrid } from "../src/report/images";

describe("the notebook's pictures of the data", () => {
  it("know how bright a full pixel is, before and after rescaling", async () => {
    const data = await loadMnist({ limit: 20 });
    expect(data.pixelMax).toBe(255);
    expect(tf.max(data.xTrain).dataSync()[0]).toBe(255);
    data.rescale(255);
    expect(data.pixelMax).toBe(1);
    expect(tf.max(data.xTrain).dataSync()[0]).toBe(1);
    data.reshape([28, 28, 1]);
    // the same picture whatever the scale of the values
    const rescaled = sampleGrid(data, 4);
    data.rescale(1);
    expect(Buffer.from(sampleGrid(data, 4).png).equals(Buffer.from(rescaled.png))).toBe(true);
  });

  it("show the test images of the most confident mistakes, each with its own pixels", async () => {
    const data = await loadMnist({ limit: 20 });
    data.rescale(255);
    const labels = data.testLabels();
    // Probabilities made by hand: examples 3 and 7 wrong (7 more confidently), the rest right.
    const probabilities = new Float32Array(20 * 10);
    labels.forEach((label, i) => {
      const predicted = i === 3 || i === 7 ? (label + 1) % 10 : label;
      probabilities[i * 10 + predicted] = i === 7 ? 0.9 : i === 3 ? 0.6 : 1;
    });
    const report: TestReport = { matrix: [], classNames: data.classNames, probabilities };
    const gallery = mistakeGallery(data, report, 5, 2);

    const pixels = (i: number) => data.xTest.slice(i, 1).dataSync();
    const expected = tileGrid([7, 3].map((i) => ({
      pixels: pixels(i),
      caption: [`TRUE ${labels[i]}`, `PRED ${(labels[i]! + 1) % 10}`, `${i === 7 ? 90 : 60}%`],
    })), { rows: 28, cols: 28, columns: 2, maxValue: 1 }, "the 2 most confident mistakes");
    expect(gallery.title).toBe("the 2 most confident mistakes");
    expect(Buffer.from(gallery.png).equals(Buffer.from(expected.png))).toBe(true);
  });
});

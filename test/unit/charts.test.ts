import { describe, expect, it } from "vitest";
import { confusionFigure, isFigure, plotHistory, type LineTrace } from "../../src/report/charts";

describe("plotHistory", () => {
  it("draws one labelled line per series against epochs from 1, titled like the seed", () => {
    const figure = plotHistory({
      title: "model accuracy", yLabel: "accuracy",
      series: { accuracy: [0.84, 0.98, 0.99], val_accuracy: [0.979, 0.984, 0.986] },
    });
    expect(figure.layout.title.text).toBe("model accuracy");
    expect(figure.layout.xaxis.title.text).toBe("epoch");
    expect(figure.layout.yaxis.title.text).toBe("accuracy");
    expect(figure.data.map((t) => (t as LineTrace).name)).toEqual(["accuracy", "val_accuracy"]);
    expect(figure.data[1]).toEqual({ type: "scatter", mode: "lines+markers", name: "val_accuracy", x: [1, 2, 3], y: [0.979, 0.984, 0.986] });
    expect(isFigure(figure)).toBe(true);
    expect(isFigure({ data: 1 })).toBe(false);
  });

  it("explains empty or malformed series", () => {
    expect(() => plotHistory({ title: "t", yLabel: "y", series: {} })).toThrow(/series is empty/);
    expect(() => plotHistory({ title: "t", yLabel: "y", series: { val_loss: [] } })).toThrow(/series "val_loss" must be a non-empty array of numbers/);
  });
});

describe("confusionFigure", () => {
  it("is a heatmap of counts, true class down the side (first at the top), prediction along the bottom", () => {
    const figure = confusionFigure([[5, 1], [2, 7]], ["Trouser", "Bag"], "model 1: confusion matrix (test set)");
    expect(figure.data).toHaveLength(1);
    expect(figure.data[0]).toMatchObject({ type: "heatmap", z: [[5, 1], [2, 7]], x: ["Trouser", "Bag"], y: ["Trouser", "Bag"], texttemplate: "%{z}" });
    expect(figure.layout.yaxis).toMatchObject({ title: { text: "true" }, autorange: "reversed" });
    expect(figure.layout.xaxis.title.text).toBe("predicted");
    expect(() => confusionFigure([[1, 2]], ["a", "b"], "t")).toThrow(/2-class matrix needs 2×2 counts/);
  });
});

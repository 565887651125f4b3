import { describe, expect, it } from "vitest";
import { confusionFigure, describeFigure, isFigure, plotHistory, trainingFigure, type LineTrace } from "../../src/report/charts";

describe("plotHistory", () => {
  it("draws one labelled line per series against epochs from 1, titled like the seed", () => {
    const figure = plotHistory({
      title: "model accuracy", yLabel: "accuracy",
      series: { accuracy: [0.84, 0.98, 0.99], val_accuracy: [0.979, 0.984, 0.986] },
    });
    expect(figure.layout.title.text).toBe("model accuracy");
    expect(figure.layout.xaxis.title?.text).toBe("epoch");
    expect(figure.layout.yaxis.title?.text).toBe("accuracy");
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
    expect(figure.layout.xaxis.title?.text).toBe("predicted");
    expect(() => confusionFigure([[1, 2]], ["a", "b"], "t")).toThrow(/2-class matrix needs 2×2 counts/);
  });
});

describe("describeFigure", () => {
  it("says what a chart shows, for its alt text: the title, then each plot's series against its x axis", () => {
    const history = { loss: [0.2, 0.05, 0.03], val_loss: [0.06, 0.04, 0.04], accuracy: [0.94, 0.98, 0.99], val_accuracy: [0.98, 0.99, 0.99] };
    expect(describeFigure(trainingFigure({ title: "model_1: training history", epochs: 6, metric: "accuracy", history })))
      .toBe("model_1: training history; loss: loss and val_loss against epoch (1 to 3); accuracy: accuracy and val_accuracy against epoch (1 to 3)");
    // mid-epoch: the training line reaches where the epoch is
    expect(describeFigure(trainingFigure({ title: "t", epochs: 2, metric: "accuracy", history: { loss: [], accuracy: [] }, running: { x: 0.456, loss: 1, metric: 0.5 } })))
      .toBe("t; loss: loss against epoch (0.46 to 0.46); accuracy: accuracy against epoch (0.46 to 0.46)");
    // another compiled metric beside the loss, or the loss alone across the whole width
    const mae = trainingFigure({ title: "t", epochs: 2, metric: "mae", history: { loss: [0.3], mae: [0.1], val_loss: [0.4], val_mae: [0.2] } });
    expect(describeFigure(mae)).toBe("t; loss: loss and val_loss against epoch (1 to 1); mae: mae and val_mae against epoch (1 to 1)");
    const alone = trainingFigure({ title: "t", epochs: 2, metric: null, history: { loss: [0.3], mae: [0.1] } });
    expect(alone.data.map((t) => (t as LineTrace).name)).toEqual(["loss"]);
    expect([alone.layout.xaxis.domain, alone.layout.xaxis2]).toEqual([[0, 1], undefined]);
    expect(describeFigure(plotHistory({ title: "model accuracy", yLabel: "accuracy", series: { accuracy: [0.9, 0.95] } })))
      .toBe("model accuracy; accuracy: accuracy against epoch (1 to 2)");
  });

  it("names a heatmap's axes and their labels", () => {
    const classes = ["0", "1", "2"];
    expect(describeFigure(confusionFigure([[5, 0, 1], [0, 6, 0], [1, 0, 7]], classes, "model_1: confusion matrix (test set)")))
      .toBe("model_1: confusion matrix (test set); heatmap of true (rows, 0 to 2) by predicted (columns, 0 to 2)");
  });
});

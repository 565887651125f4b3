import { describe, expect, it } from "vitest";
import { isFigure, plotHistory } from "../src/charts";

describe("plotHistory", () => {
  it("draws one labelled line per series against epochs from 1, titled like the seed", () => {
    const figure = plotHistory({
      title: "model accuracy", yLabel: "accuracy",
      series: { accuracy: [0.84, 0.98, 0.99], val_accuracy: [0.979, 0.984, 0.986] },
    });
    expect(figure.layout.title.text).toBe("model accuracy");
    expect(figure.layout.xaxis.title.text).toBe("epoch");
    expect(figure.layout.yaxis.title.text).toBe("accuracy");
    expect(figure.data.map((t) => t.name)).toEqual(["accuracy", "val_accuracy"]);
    expect(figure.data[1]).toEqual({ type: "scatter", mode: "lines+markers", name: "val_accuracy", x: [1, 2, 3], y: [0.979, 0.984, 0.986] });
    expect(isFigure(figure)).toBe(true);
    expect(isFigure({ data: 1 })).toBe(false);
  });

  it("explains empty or malformed series", () => {
    expect(() => plotHistory({ title: "t", yLabel: "y", series: {} })).toThrow(/series is empty/);
    expect(() => plotHistory({ title: "t", yLabel: "y", series: { val_loss: [] } })).toThrow(/series "val_loss" must be a non-empty array of numbers/);
  });
});

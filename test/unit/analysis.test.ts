import { describe, expect, it } from "vitest";
import { argMaxRows, confidentMistakes, confusionMatrix, describeGeneralisation, generalisation, perClassMetrics } from "../../src/report/analysis";
import type { History } from "../../src/training/training";

describe("confusion matrix and per-class metrics", () => {
  // 3 classes; true labels and predictions made by hand
  const labels = [0, 0, 0, 1, 1, 2, 2, 2, 2];
  const predicted = [0, 0, 1, 1, 2, 2, 2, 2, 0];

  it("counts [true][predicted]", () => {
    expect(confusionMatrix(labels, predicted, 3)).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [1, 0, 3],
    ]);
    expect(() => confusionMatrix([0, 1], [0], 3)).toThrow(/2 labels but 1 predictions/);
  });

  it("gives precision, recall and support per class", () => {
    const { precision, recall, support } = perClassMetrics(confusionMatrix(labels, predicted, 3));
    expect(support).toEqual([3, 2, 4]);
    expect(precision).toEqual([2 / 3, 1 / 2, 3 / 4]);
    expect(recall).toEqual([2 / 3, 1 / 2, 3 / 4]);
    const never = perClassMetrics([[1, 0], [1, 0]]); // class 1 never predicted, never right
    expect(never.precision[1]).toBeNaN();
    expect(never.recall).toEqual([1, 0]);
  });
});

describe("confidentMistakes", () => {
  it("picks the wrong predictions made with the highest probability, most confident first", () => {
    const probabilities = [
      0.9, 0.1, // label 0, right
      0.2, 0.8, // label 0, wrong with 0.8
      0.6, 0.4, // label 1, wrong with 0.6
      0.05, 0.95, // label 0, wrong with 0.95
      0.3, 0.7, // label 1, right
    ];
    const labels = [0, 0, 1, 0, 1];
    expect(argMaxRows(probabilities, 2)).toEqual([0, 1, 0, 1, 1]);
    expect(confidentMistakes(probabilities, 2, labels, 2)).toEqual([
      { index: 3, label: 0, predicted: 1, confidence: 0.95 },
      { index: 1, label: 0, predicted: 1, confidence: 0.8 },
    ]);
    expect(confidentMistakes(probabilities, 2, labels, 10)).toHaveLength(3);
  });
});

describe("generalisation", () => {
  const history: History = {
    epoch: [0, 1, 2, 3],
    history: {
      loss: [0.5, 0.06, 0.03, 0.02],
      accuracy: [0.84, 0.981, 0.99, 0.993],
      val_loss: [0.068, 0.051, 0.043, 0.046],
      val_accuracy: [0.98, 0.985, 0.987, 0.987],
      seconds: [10, 9, 9, 9],
    },
    params: { epochs: 4, batchSize: 128, steps: 375, samples: 48000, validationSamples: 12000, metrics: ["loss", "accuracy", "val_loss", "val_accuracy"] },
  };

  it("reports final metrics, their gaps and the epoch with the lowest validation loss", () => {
    const g = generalisation(history);
    expect(g).toMatchObject({ epochs: 4, trainAccuracy: 0.993, valAccuracy: 0.987, trainLoss: 0.02, valLoss: 0.046, bestValLossEpoch: 3, bestValLoss: 0.043 });
    expect(g.accuracyGap).toBeCloseTo(0.006, 10);
    expect(g.lossGap).toBeCloseTo(0.026, 10);
  });

  it("says it in one sentence an answer can cite", () => {
    expect(describeGeneralisation("model 1", history)).toBe(
      "model 1: after 4 epochs, training accuracy 0.9930 against validation 0.9870 (gap +0.0060); "
        + "training loss 0.0200 against validation 0.0460 (gap +0.0260); "
        + "validation loss was lowest at epoch 3 of 4 (0.0430) and 0.0460 at the end.",
    );
    expect(() => generalisation({ ...history, epoch: [], history: { ...history.history, val_loss: [] } })).toThrow(/no finished epoch/);
  });
});

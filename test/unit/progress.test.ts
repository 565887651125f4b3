import { describe, expect, it } from "vitest";
import { formatProgressLine, KerasProgress, transcriptText, type Transcript } from "../../src/training/progress";
import type { TrainingParams } from "../../src/training/callbacks";

describe("formatProgressLine", () => {
  it("prints the finished epoch like Keras's verbose=1", () => {
    expect(formatProgressLine(375, 375, 33.4, { loss: 0.52704, accuracy: 0.84051, val_loss: 0.068, val_accuracy: 0.97983 }, true)).toBe(
      "375/375 [==============================] - 33s 89ms/step - loss: 0.5270 - accuracy: 0.8405 - val_loss: 0.0680 - val_accuracy: 0.9798",
    );
  });

  it("shows a growing bar and an ETA while the epoch runs", () => {
    expect(formatProgressLine(0, 375, 0, {}, false)).toBe(`  0/375 [${".".repeat(30)}] - ETA: 0s`);
    expect(formatProgressLine(125, 375, 10, { loss: 0.9, accuracy: 0.7 }, false)).toBe(
      `125/375 [=========>${".".repeat(20)}] - ETA: 20s - loss: 0.9000 - accuracy: 0.7000`,
    );
    expect(formatProgressLine(10, 375, 60, {}, false)).toMatch(/ - ETA: 36:30$/);
  });
});

describe("KerasProgress", () => {
  const params: TrainingParams = { epochs: 2, batchSize: 128, steps: 4, samples: 500, validationSamples: 100, metrics: ["loss", "accuracy", "val_loss", "val_accuracy"] };

  it("keeps a transcript of epoch headers and final lines, redrawing the running line", () => {
    const transcripts: Transcript[] = [];
    let clock = 0;
    const progress = new KerasProgress((t) => transcripts.push(t), 1, 250, () => clock);
    progress.setParams(params);
    progress.onEpochBegin(0);
    clock = 300;
    progress.onBatchEnd(0, { batch: 0, size: 128, loss: 1, accuracy: 0.5 });
    clock = 350; // within the interval: not redrawn
    progress.onBatchEnd(1, { batch: 1, size: 128, loss: 0.9, accuracy: 0.55 });
    clock = 1200;
    progress.onEpochEnd(0, { loss: 0.8, accuracy: 0.6, val_loss: 0.7, val_accuracy: 0.65 });
    const rendered = transcripts.map(transcriptText);
    expect(rendered).toHaveLength(3);
    expect(rendered[1]).toBe(`Epoch 1/2\n1/4 [======>${".".repeat(23)}] - ETA: 1s - loss: 1.0000 - accuracy: 0.5000`);
    // the running line comes apart from the finished ones: nobody has to find it in the text
    expect(transcripts[1]).toEqual({ finished: ["Epoch 1/2"], running: `1/4 [======>${".".repeat(23)}] - ETA: 1s - loss: 1.0000 - accuracy: 0.5000` });
    expect(transcripts[2]!.running).toBeNull();
    expect(progress.text).toBe(
      "Epoch 1/2\n4/4 [==============================] - 1s 300ms/step - loss: 0.8000 - accuracy: 0.6000 - val_loss: 0.7000 - val_accuracy: 0.6500",
    );
  });

  it("with verbose 2, shows only each epoch's final line", () => {
    let clock = 0;
    const progress = new KerasProgress(() => undefined, 2, 0, () => clock);
    progress.setParams(params);
    progress.onEpochBegin(0);
    clock = 100;
    progress.onBatchEnd(0, { loss: 1, accuracy: 0.5 });
    expect(progress.transcript).toEqual({ finished: ["Epoch 1/2"], running: null });
    clock = 2000;
    progress.onEpochEnd(0, { loss: 0.8, accuracy: 0.6 });
    expect(progress.text).toBe("Epoch 1/2\n4/4 [==============================] - 2s 500ms/step - loss: 0.8000 - accuracy: 0.6000");
  });

  it("keeps the bar of an interrupted epoch where it stopped", () => {
    let clock = 0;
    const progress = new KerasProgress(() => undefined, 1, 0, () => clock);
    progress.setParams(params);
    progress.onEpochBegin(1);
    clock = 1000;
    progress.onBatchEnd(1, { loss: 0.5, accuracy: 0.9 });
    progress.onTrainEnd();
    expect(progress.transcript).toEqual({
      finished: ["Epoch 2/2", `2/4 [==============>${".".repeat(15)}] - ETA: 1s - loss: 0.5000 - accuracy: 0.9000`],
      running: null,
    });
  });
});

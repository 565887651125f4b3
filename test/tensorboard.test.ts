/**
 * The tensorBoard callback's logs, read back by TensorBoard itself: `npm run
 * tensorboard` (which installs TensorBoard into .venv on first use) serves
 * them on a loopback port, and its HTTP API gives every epoch's scalars.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tf } from "../src/core/backend";
import { adadelta } from "../src/engine/adadelta";
import { tensorBoard } from "../src/training/callbacks";
import { kerasLayers } from "../src/training/sequential";
import { freePort, root, tempDir } from "./helpers";

const stops: Array<() => void> = [];
afterAll(() => stops.forEach((stop) => stop()));

describe("tensorBoard", () => {
  it("writes event files that TensorBoard serves back: each epoch's loss and accuracy, for training and validation", async () => {
    const x = tf.randomUniform([200, 28, 28, 1], 0, 1, "float32", 3);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 200 }, (_, i) => i % 10), "int32"), 10);
    const layers = kerasLayers(5);
    const model = layers.sequential();
    model.add(layers.flatten({ inputShape: [28, 28, 1] }));
    model.add(layers.dense({ units: 10, activation: "softmax" }));
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
    const logDir = path.join(tempDir("tensorboard"), "logs", "model_1");
    const history = await model.fit(x, y, { batchSize: 50, epochs: 3, validationSplit: 0.2, verbose: 0, callbacks: [tensorBoard(logDir)] });

    const port = await freePort();
    const board = spawn(process.execPath, [path.join(root, "scripts", "tensorboard.mjs"), path.dirname(logDir)], {
      cwd: root, env: { ...process.env, PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"],
    });
    stops.push(() => board.kill("SIGTERM"));
    let printed = "";
    board.stdout.on("data", (chunk) => (printed += chunk));
    board.stderr.on("data", (chunk) => (printed += chunk));
    const scalars = async (run: string, tag: string): Promise<Array<[number, number, number]> | null> => {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/data/plugin/scalars/scalars?run=${encodeURIComponent(run)}&tag=${tag}`);
        return response.ok ? ((await response.json()) as Array<[number, number, number]>) : null;
      } catch {
        return null; // not listening yet
      }
    };
    // TensorBoard loads the logs a moment after it starts listening.
    let trainLoss: Array<[number, number, number]> | null = null;
    for (let i = 0; i < 240 && (trainLoss === null || trainLoss.length < 3); i++) {
      if (board.exitCode !== null) throw new Error(`npm run tensorboard exited:\n${printed}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      trainLoss = await scalars("model_1/train", "epoch_loss");
    }
    expect(printed).toContain(`open http://127.0.0.1:${port}/`);
    const values = (points: Array<[number, number, number]> | null) => points!.map(([, step, value]) => [step, value]);
    const expected = (series: number[]) => series.map((v, e) => [e + 1, expect.closeTo(v, 6)]);
    expect(values(trainLoss)).toEqual(expected(history.history.loss));
    expect(values(await scalars("model_1/train", "epoch_accuracy"))).toEqual(expected(history.history.accuracy!));
    expect(values(await scalars("model_1/val", "epoch_loss"))).toEqual(expected(history.history.val_loss!));
    expect(values(await scalars("model_1/val", "epoch_accuracy"))).toEqual(expected(history.history.val_accuracy!));
  }, 300_000);
});

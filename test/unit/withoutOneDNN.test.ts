/**
 * A TensorFlow build without oneDNN (tfjs-node's own download on macOS, on
 * Windows, or on Linux with internet) takes the road DEEPCONV_KERNELS=no-onednn
 * forces here: the same stages, with Eigen's kernels and the reformulations.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";

// Read when the engine first runs an op: set before anything loads it.
process.env.DEEPCONV_KERNELS = "no-onednn";
const { tf } = await import("../../src/core/backend");
const { buildConvNet } = await import("../../src/training/models");
const { adadelta, kernelChoices } = await import("../../src/engine");

/** Images with a bright 6×6 square whose place says the class: something a few epochs learn. */
function squares(count: number) {
  const labels = Array.from({ length: count }, (_, i) => (i * 7) % 10);
  const x = tf.tidy(() => tf.stack(labels.map((label) => {
    const [row, column] = [2 + 2 * Math.floor(label / 5) * 5, 2 + 5 * (label % 5)];
    return tf.pad(tf.ones([6, 6, 1]), [[row, 28 - 6 - row], [column, 28 - 6 - column], [0, 0]]);
  })));
  const noisy = tf.tidy(() => tf.clipByValue(tf.add(x, tf.randomUniform(x.shape, 0, 0.3, "float32", 1)), 0, 1));
  x.dispose();
  return { x: noisy as Tensor, y: tf.oneHot(tf.tensor1d(labels, "int32"), 10).toFloat() as Tensor };
}

describe("without oneDNN (DEEPCONV_KERNELS=no-onednn)", () => {
  it("trains model 2 on TensorFlow's portable kernels alone, calling no oneDNN op", async () => {
    const backend = tf.backend() as unknown as Record<string, (name: string, ...rest: unknown[]) => unknown>;
    const called = new Set<string>();
    for (const method of ["executeSingleOutput", "executeMultipleOutputs"]) {
      const original = backend[method]!.bind(backend);
      backend[method] = (name, ...rest) => {
        called.add(name);
        return original(name, ...rest);
      };
    }
    const { x, y } = squares(384);
    const model = buildConvNet({ seed: 3, dropoutConv: 0.25, dropoutDense: 0.5 });
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
    const history = await model.fit(x, y, { batchSize: 64, epochs: 4, verbose: 0, validationSplit: 0.25 });

    expect([...called].filter((op) => op.startsWith("_Mkl"))).toEqual([]);
    // the layers ran on the stages' native ops, not on tfjs's
    expect(called).toContain("ReluGrad");
    expect(called).toContain("MaxPoolGrad");
    const choices = kernelChoices();
    expect(new Set(choices.map((c) => c.op))).toEqual(new Set(["conv2d", "conv2dRelu", "conv2dFilterGrad", "conv2dInputGrad", "maxPool", "matMul"]));
    expect(choices.filter((c) => c.kernel === "onednn")).toEqual([]);
    const { loss, val_accuracy: accuracy } = history.history;
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss.at(-1)!).toBeLessThan(loss[0]!);
    expect(accuracy!.at(-1)!).toBeGreaterThan(0.5);
  });
});

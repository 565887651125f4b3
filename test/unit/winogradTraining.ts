/**
 * A model trained with every convolution pass forced onto one of Winograd's kernels (DEEPCONV_KERNELS, which the
 * calling test file sets before anything loads the engine): the ops run inside the one-function step as they do op by
 * op, and training learns.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { expect } from "vitest";

/** DEEPCONV_KERNELS's value that forces `kernel` on every convolution pass. */
export function forcedKernels(kernel: string): string {
  return ["conv2d", "conv2dRelu", "conv2dInputGrad", "conv2dFilterGrad"].map((op) => `${op}=${kernel}`).join(",");
}

/** Trains op by op and as one function on the forced `kernel`; `ops` are the native ops it must have run. */
export async function trainsOnWinograd(kernel: string, ops: string[]): Promise<void> {
  const { tf } = await import("../../src/core/backend");
  const { buildConvNet } = await import("../../src/training/models");
  const { adadelta, kernelChoices, metricNamed } = await import("../../src/engine");
  const { trainFunction } = await import("../../src/engine/step");
  const backend = tf.backend() as unknown as Record<string, (name: string, ...rest: unknown[]) => unknown>;
  const called = new Set<string>();
  const original = backend.executeSingleOutput!.bind(backend);
  backend.executeSingleOutput = (name, ...rest) => {
    called.add(name);
    return original(name, ...rest);
  };
  // A bright square whose column says the class: learnable in a few steps.
  const labels = Array.from({ length: 96 }, (_, i) => i % 4);
  const x = tf.tidy(() =>
    tf.add(
      tf.stack(labels.map((l) => tf.pad(tf.ones([8, 6, 1]), [[10, 10], [2 + 6 * l, 20 - 6 * l], [0, 0]]))),
      tf.randomUniform([96, 28, 28, 1], 0, 0.2, "float32", 1),
    ),
  ) as Tensor;
  const y = tf.oneHot(tf.tensor1d(labels, "int32"), 10).toFloat() as Tensor;
  const runs = [];
  for (const runEagerly of [true, false]) {
    const model = buildConvNet({ seed: 4 });
    model.compile({ loss: "categoricalCrossentropy", optimizer: adadelta({ learningRate: 1.0 }), metrics: ["accuracy"], runEagerly });
    const history = await model.fit(x, y, { batchSize: 32, epochs: 3, verbose: 0 });
    const status = Object.values(trainFunction(model, model.optimizer, [metricNamed("accuracy")!], runEagerly).status());
    runs.push({ weights: model.getWeights().map((w) => Array.from(w.dataSync())), loss: history.history.loss as number[], status });
  }
  const [eager, compiled] = runs as [(typeof runs)[0], (typeof runs)[0]];
  for (const op of ops) expect(called, op).toContain(op);
  expect(kernelChoices().filter((c) => c.op.startsWith("conv2d")).map((c) => [c.op, c.kernel, c.how])).toEqual(
    expect.arrayContaining(["conv2dRelu", "conv2d", "conv2dFilterGrad", "conv2dInputGrad"].map((op) => [op, kernel, "forced"])),
  );
  let most = 0;
  eager.weights.forEach((w, i) => w.forEach((v, k) => (most = Math.max(most, Math.abs(v - compiled.weights[i]![k]!)))));
  expect(most).toBeLessThan(1e-5);
  expect(compiled.status).toEqual([{ compiled: true, refused: null }]);
  expect(eager.status).toEqual([]);
  expect(compiled.loss.at(-1)!).toBeLessThan(compiled.loss[0]! * 0.5);
}

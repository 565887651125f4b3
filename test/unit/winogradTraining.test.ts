/**
 * A model trained with every convolution pass forced onto Winograd's kernels (DEEPCONV_KERNELS): the ops run inside
 * the one-function step as they do op by op, and training learns.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";

// Read when the engine first runs an op: set before anything loads it.
process.env.DEEPCONV_KERNELS =
  "conv2d=winograd4,conv2dRelu=winograd4,conv2dInputGrad=winograd4,conv2dFilterGrad=winograd4";
const { tf } = await import("../../src/core/backend");
const { buildConvNet } = await import("../../src/training/models");
const { adadelta, kernelChoices, metricNamed } = await import("../../src/engine");
const { trainFunction } = await import("../../src/engine/step");

describe("training on Winograd's kernels", () => {
  it("gives the same weights op by op and as one function, and the loss falls", async () => {
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
    for (const op of ["DeepConvWinogradInput", "DeepConvWinogradOutput", "DeepConvWinogradOutputGrad", "DeepConvWinogradInputGrad"])
      expect(called, op).toContain(op);
    expect(kernelChoices().filter((c) => c.op.startsWith("conv2d")).map((c) => [c.op, c.kernel, c.how])).toEqual(
      expect.arrayContaining([["conv2dRelu", "winograd4", "forced"], ["conv2d", "winograd4", "forced"], ["conv2dFilterGrad", "winograd4", "forced"], ["conv2dInputGrad", "winograd4", "forced"]]),
    );
    let most = 0;
    eager.weights.forEach((w, i) => w.forEach((v, k) => (most = Math.max(most, Math.abs(v - compiled.weights[i]![k]!)))));
    expect(most).toBeLessThan(1e-5);
    expect(compiled.status).toEqual([{ compiled: true, refused: null }]);
    expect(eager.status).toEqual([]);
    expect(compiled.loss.at(-1)!).toBeLessThan(compiled.loss[0]! * 0.5);
  });
});

/**
 * The candidate kernels of batch normalization: TensorFlow's fused op and
 * oneDNN's, each doing the training pass, the inference pass and the gradient.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../../core/backend";
import { constant, type OpAttr } from "../binding";
import type { Candidate } from "../tuner";
import { available, type OpContext } from "./context";
import type { BatchNormKernel } from "./geometry";

export function batchNormCandidates(c: OpContext): Candidate<BatchNormKernel>[] {
  const { float: T, type, f32, bool, oneDNN: mkl } = c.attrs;
  const bnAttrs = (epsilon: number, training: boolean) => [
    T,
    type("U", c.backend.binding.TF_FLOAT),
    f32("epsilon", epsilon),
    c.nhwc,
    bool("is_training", training),
  ];
  const run = (op: string, attrs: OpAttr[], inputs: Tensor[], count: number) =>
    c.backend.executeMultipleOutputs(op, attrs, inputs, count);
  const kernel = (op: string, grad: string, extra: OpAttr[]): BatchNormKernel => ({
    training(x, scale, offset, epsilon) {
      const empty = constant("float empty", () => tf.tensor1d([]));
      const [y, mean, unbiased, ...reserve] = run(
        op,
        [...bnAttrs(epsilon, true), ...extra],
        [x, scale, offset, empty, empty],
        6,
      );
      // TensorFlow returns the batch variance with Bessel's correction; Keras's moving average takes the plain one.
      const n = x.size / x.shape[3]!;
      const variance = n > 1 ? tf.mul(unbiased!, (n - 1) / n) : unbiased!;
      return { y: y!, mean: mean!, variance, reserve };
    },
    inference(x, scale, offset, mean, variance, epsilon) {
      return run(op, [...bnAttrs(epsilon, false), ...extra], [x, scale, offset, mean, variance], 6)[0]!;
    },
    backward(dy, x, scale, reserve, epsilon) {
      return run(grad, [...bnAttrs(epsilon, true), ...extra], [dy, x, scale, ...reserve], 5).slice(0, 3);
    },
  });
  const z = (...shape: number[]) => tf.zeros(shape);
  const oneDNN = c.hasOneDNN(
    "_MklNativeFusedBatchNormV3",
    [...bnAttrs(1e-3, true), mkl],
    () => [z(2, 1, 1, 1), z(1), z(1), z(1), z(1)],
    6,
  );
  return available<BatchNormKernel>([
    [true, { name: "eigen", oneDNN: false, impl: kernel("FusedBatchNormV3", "FusedBatchNormGradV3", []) }],
    [
      oneDNN,
      {
        name: "onednn",
        oneDNN: true,
        impl: kernel("_MklNativeFusedBatchNormV3", "_MklNativeFusedBatchNormGradV3", [mkl]),
      },
    ],
  ]);
}

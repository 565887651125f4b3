/**
 * TensorFlow's own ops for the training step, called directly: the forward
 * and gradient ops of the layers stages.ts knows, and the loss. Where there
 * is more than one way to compute an op (TensorFlow's portable Eigen kernel,
 * oneDNN's, or a reformulation on other ops), each is a candidate and the
 * tuner (tuner.ts) runs the one this machine runs fastest.
 *
 * Why these ops: tfjs differentiates ReLU as `dy · step(y)`, built from six
 * ops, where ReluGrad is one; oneDNN's max-pool keeps a workspace from the
 * forward pass where MaxPoolGrad recomputes each window's maximum; tfjs's
 * softmax cross-entropy is about twenty small ops, SoftmaxCrossEntropyWithLogits
 * one (measured: docs/PERFORMANCE.md). Everything here needs the TensorFlow
 * backend: `nativeOps()` is null elsewhere, and the model then runs as
 * tfjs-layers runs it.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { attributes, constant, floatScalar, hasOp, intVector, native, type NativeBackend, type OpAttr } from "./binding";
import { fileStore, machineKey, parseKernelSettings, Tuner, type Candidate, type KernelChoice, type KernelSettings } from "./tuner";

/** A pooling's output and what its gradient needs besides it. */
export interface Pooled {
  y: Tensor;
  /** oneDNN's workspace (which input won each window), or null where MaxPoolGrad recomputes it. */
  workspace: Tensor | null;
}

export type Padding = "valid" | "same";

/** A convolution's geometry, as Keras's Conv2D arguments give it (NHWC). */
export interface ConvGeometry {
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
}

/** A pooling window, as Keras's pooling layers give it (NHWC). */
export interface PoolGeometry {
  size: [number, number];
  strides: [number, number];
  padding: Padding;
}

export const UNIT_CONV: ConvGeometry = { strides: [1, 1], dilations: [1, 1], padding: "valid" };
export const squarePool = (size: number): PoolGeometry => ({ size: [size, size], strides: [size, size], padding: "valid" });

/** A batch normalization in training mode: its output, the batch's statistics and what its gradient needs. */
export interface Normalized {
  y: Tensor;
  mean: Tensor;
  /** The batch's variance over its N·H·W values (biased, as Keras's moving average takes it). */
  variance: Tensor;
  /** The kernel's own saved statistics, handed back to its gradient. */
  reserve: Tensor[];
}

/** Batch normalization over the last axis of an NHWC tensor, forward in training mode and backward, by one kernel. */
export interface BatchNormKernel {
  training(x: Tensor, scale: Tensor, offset: Tensor, epsilon: number): Normalized;
  inference(x: Tensor, scale: Tensor, offset: Tensor, mean: Tensor, variance: Tensor, epsilon: number): Tensor;
  /** [dx, dscale, doffset]. */
  backward(dy: Tensor, x: Tensor, scale: Tensor, reserve: Tensor[], epsilon: number): Tensor[];
}

/**
 * The TensorFlow ops of the training step, float32, NHWC: convolutions and
 * poolings of any geometry, batch normalization, matrix products, the losses,
 * and any other float op by name (`float`), such as the activations and their
 * gradients (activations.ts).
 */
export interface NativeOps {
  /** A float32 op by its TensorFlow name, with its T attribute set (Tanh, TanhGrad, Mean, …). */
  float(op: string, inputs: Tensor[], attrs?: OpAttr[]): Tensor;
  attrs: ReturnType<typeof attributes>;
  relu(x: Tensor): Tensor;
  /** dy where y > 0, else 0: the gradient of y = relu(x), from its output. */
  reluGrad(dy: Tensor, y: Tensor): Tensor;
  /** conv(x, w) + b. */
  conv(x: Tensor, w: Tensor, b: Tensor | null, g?: ConvGeometry): Tensor;
  /** relu(conv(x, w) + b). */
  convRelu(x: Tensor, w: Tensor, b: Tensor, g: ConvGeometry): Tensor;
  convInputGrad(inputShape: number[], w: Tensor, dy: Tensor, g?: ConvGeometry): Tensor;
  convFilterGrad(x: Tensor, filterShape: number[], dy: Tensor, g?: ConvGeometry): Tensor;
  biasAdd(x: Tensor, b: Tensor): Tensor;
  /** The bias's gradient, summed over every axis but the last, in one pass. */
  biasGrad(dy: Tensor): Tensor;
  maxPool(x: Tensor, window: PoolGeometry): Pooled;
  maxPoolGrad(x: Tensor, pooled: Pooled, dy: Tensor, window: PoolGeometry): Tensor;
  avgPool(x: Tensor, window: PoolGeometry): Tensor;
  avgPoolGrad(inputShape: number[], dy: Tensor, window: PoolGeometry): Tensor;
  /** Batch normalization's kernel for this shape. */
  batchNorm(x: Tensor): BatchNormKernel;
  /** a·b, either side transposed. */
  matMul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor;
  reshape(x: Tensor, shape: number[]): Tensor;
  /** Softmax over the last axis. */
  softmax(x: Tensor): Tensor;
  /** Each example's cross-entropy between one-hot `labels` and softmax(`logits`), and its gradient by the logits. */
  softmaxCrossEntropy(logits: Tensor, labels: Tensor): [losses: Tensor, gradient: Tensor];
  /** The same with integer class labels, one per example. */
  sparseSoftmaxCrossEntropy(logits: Tensor, labels: Tensor): [losses: Tensor, gradient: Tensor];
}

type Conv = (x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry) => Tensor;
type ConvRelu = (x: Tensor, w: Tensor, b: Tensor, g: ConvGeometry) => Tensor;
type FilterGrad = (x: Tensor, filterShape: number[], dy: Tensor, g: ConvGeometry) => Tensor;
type InputGrad = (inputShape: number[], w: Tensor, dy: Tensor, g: ConvGeometry) => Tensor;
type Pool = { forward(x: Tensor, window: PoolGeometry): Pooled; backward(x: Tensor, pooled: Pooled, dy: Tensor, window: PoolGeometry): Tensor };
type AvgPool = { forward(x: Tensor, window: PoolGeometry): Tensor; backward(inputShape: number[], dy: Tensor, window: PoolGeometry): Tensor };
type MatMul = (a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean) => Tensor;

/** Each op's candidates on this TensorFlow build, baseline first (the kernel used before the tuner existed). */
export interface Candidates {
  conv2d: Candidate<Conv>[];
  conv2dRelu: Candidate<ConvRelu>[];
  conv2dFilterGrad: Candidate<FilterGrad>[];
  conv2dInputGrad: Candidate<InputGrad>[];
  maxPool: Candidate<Pool>[];
  avgPool: Candidate<AvgPool>[];
  batchNorm: Candidate<BatchNormKernel>[];
  matMul: Candidate<MatMul>[];
}

/** Every candidate's name per op, whether or not this build has it (for DEEPCONV_KERNELS). */
export const KERNEL_CATALOGUE: Record<keyof Candidates, string[]> = {
  conv2d: ["eigen", "onednn"],
  conv2dRelu: ["eigen", "onednn", "fused", "eigen-fused"],
  conv2dFilterGrad: ["eigen", "onednn", "transposed"],
  conv2dInputGrad: ["eigen", "onednn", "padded"],
  maxPool: ["onednn", "eigen"],
  avgPool: ["eigen", "onednn", "broadcast"],
  batchNorm: ["eigen", "onednn"],
  matMul: ["adjoint", "transposed"],
};

/** The reformulations below are for stride 1 and dilation 1 only. */
const unitSteps = (g: ConvGeometry) => g.strides.every((s) => s === 1) && g.dilations.every((d) => d === 1);

/** 'same' padding before and after, per spatial axis, at stride 1: TensorFlow puts the odd one after. */
function samePadding(kernel: number): [number, number] {
  const before = Math.floor((kernel - 1) / 2);
  return [before, kernel - 1 - before];
}

/**
 * The candidates this TensorFlow build can run. `withoutOneDNN` leaves out
 * every oneDNN kernel, also inside the reformulations, as a build without
 * oneDNN would (tfjs-node's own download on macOS or Windows).
 */
export function candidates(backend: NativeBackend, withoutOneDNN = false): Candidates {
  const { float: T, bool, ints, int, string, strings, types, oneDNN: mkl, type, f32 } = attributes(backend);
  const { TF_INT32 } = backend.binding;
  const run = (op: string, attrs: OpAttr[], inputs: Tensor[]) => backend.executeSingleOutput(op, attrs, inputs);
  const nhwc = string("data_format", "NHWC");
  const spatial = ([h, w]: [number, number]) => [1, h, w, 1];
  const convAttrs = (g: ConvGeometry, explicit: number[] | null = null) => [
    T, ints("strides", spatial(g.strides)), bool("use_cudnn_on_gpu", true),
    string("padding", explicit === null ? g.padding.toUpperCase() : "EXPLICIT"),
    ints("explicit_paddings", explicit ?? []), nhwc, ints("dilations", spatial(g.dilations)),
  ];
  const mklConv = (g: ConvGeometry) => [...convAttrs(g), bool("is_filter_const", false), mkl];
  const window = (p: PoolGeometry) => [T, ints("ksize", spatial(p.size)), ints("strides", spatial(p.strides)), string("padding", p.padding.toUpperCase()), nhwc];
  const mklPool = (p: PoolGeometry) => [...window(p), ints("explicit_paddings", []), bool("workspace_enabled", true), mkl];
  const mklAvgPool = (p: PoolGeometry) => [...window(p), mkl];
  const tperm = type("Tperm", TF_INT32);
  const tidx = type("Tidx", TF_INT32);
  const tshape = type("Tshape", TF_INT32);
  const z = (...shape: number[]) => tf.zeros(shape);
  const has = (op: string, attrs: OpAttr[], inputs: () => Tensor[], outputs = 1) =>
    !withoutOneDNN && hasOp(() => backend.executeMultipleOutputs(op, attrs, inputs(), outputs));

  const unit = convAttrs(UNIT_CONV);
  const oneDNNConv = has("_MklNativeConv2D", mklConv(UNIT_CONV), () => [z(1, 1, 1, 1), z(1, 1, 1, 1)]);
  const oneDNNBias = has("_MklNativeConv2DWithBias", mklConv(UNIT_CONV), () => [z(1, 1, 1, 1), z(1, 1, 1, 1), z(1)]);
  // bias and relu applied as each output is written (a string and a type list: the patched binding)
  const fusedAttrs = (g: ConvGeometry) => [
    ...convAttrs(g), int("num_args", 1), types("TArgs", [backend.binding.TF_FLOAT]), strings("fused_ops", ["BiasAdd", "Relu"]),
    f32("epsilon", 1e-4), f32("leakyrelu_alpha", 0.2),
  ];
  const mklFused = (g: ConvGeometry) => [...fusedAttrs(g), bool("is_filter_const", false), mkl];
  const oneDNNFused = has("_MklNativeFusedConv2D", mklFused(UNIT_CONV), () => [z(1, 1, 1, 1), z(1, 1, 1, 1), z(1)]);
  const eigenFused = hasOp(() => run("_FusedConv2D", fusedAttrs(UNIT_CONV), [z(1, 1, 1, 1), z(1, 1, 1, 1), z(1)]));
  const oneDNNFilter = has("_MklNativeConv2DBackpropFilter", [...unit, mkl], () => [z(1, 1, 1, 1), intVector([1, 1, 1, 1]), z(1, 1, 1, 1)]);
  const oneDNNInput = has("_MklNativeConv2DBackpropInput", [...unit, mkl], () => [intVector([1, 1, 1, 1]), z(1, 1, 1, 1), z(1, 1, 1, 1)]);
  const oneDNNPool = has("_MklNativeMaxPool", mklPool(squarePool(2)), () => [z(1, 2, 2, 1)], 2);
  const oneDNNAvgPool = has("_MklNativeAvgPool", mklAvgPool(squarePool(2)), () => [z(1, 2, 2, 1)]);
  const bnAttrs = (epsilon: number, training: boolean) => [T, type("U", backend.binding.TF_FLOAT), f32("epsilon", epsilon), nhwc, bool("is_training", training)];
  const oneDNNBatchNorm = has("_MklNativeFusedBatchNormV3", [...bnAttrs(1e-3, true), mkl], () => [z(2, 1, 1, 1), z(1), z(1), z(1), z(1)], 6);
  // oneDNN's reorder transposes large tensors several times faster than Eigen's shuffle.
  const oneDNNTranspose = has("_MklTranspose", [T, tperm, mkl], () => [z(1, 2), intVector([1, 0])]);
  const transpose = (x: Tensor, perm: number[]) => run(oneDNNTranspose ? "_MklTranspose" : "Transpose", oneDNNTranspose ? [T, tperm, mkl] : [T, tperm], [x, intVector(perm)]);
  const biasAdd = (x: Tensor, b: Tensor) => run("BiasAdd", [T, nhwc], [x, b]);
  const batchMatMul = (a: Tensor, b: Tensor, adjA: boolean, adjB: boolean) => run("BatchMatMulV2", [T, bool("adj_x", adjA), bool("adj_y", adjB)], [a, b]);
  const only = <I>(list: [boolean, Candidate<I>][]) => list.filter(([available]) => available).map(([, c]) => c);
  /** Explicit paddings [0, 0, top, bottom, left, right, 0, 0] of a stride-1 convolution with this kernel. */
  const paddings = (g: ConvGeometry, kh: number, kw: number, turned: boolean) => {
    const [[top, bottom], [left, right]] = g.padding === "valid" ? [[0, 0], [0, 0]] : [samePadding(kh), samePadding(kw)];
    // the input's gradient pads dy by what the forward pass did not: k − 1 − pad, sides swapped
    return turned ? [0, 0, kh - 1 - top, kh - 1 - bottom, kw - 1 - left, kw - 1 - right, 0, 0] : [0, 0, top, bottom, left, right, 0, 0];
  };
  const batchNormKernel = (op: string, grad: string, extra: OpAttr[]): BatchNormKernel => ({
    training(x, scale, offset, epsilon) {
      const empty = constant("float empty", () => tf.tensor1d([]));
      const [y, mean, unbiased, ...reserve] = backend.executeMultipleOutputs(op, [...bnAttrs(epsilon, true), ...extra], [x, scale, offset, empty, empty], 6);
      // TensorFlow returns the batch variance with Bessel's correction; Keras's moving average takes the plain one.
      const n = x.size / x.shape[3]!;
      const variance = n > 1 ? tf.mul(unbiased!, (n - 1) / n) : unbiased!;
      return { y: y!, mean: mean!, variance, reserve };
    },
    inference(x, scale, offset, mean, variance, epsilon) {
      return backend.executeMultipleOutputs(op, [...bnAttrs(epsilon, false), ...extra], [x, scale, offset, mean, variance], 6)[0]!;
    },
    backward(dy, x, scale, reserve, epsilon) {
      return backend.executeMultipleOutputs(grad, [...bnAttrs(epsilon, true), ...extra], [dy, x, scale, ...reserve], 5).slice(0, 3);
    },
  });

  const conv2d = only<Conv>([
    [true, { name: "eigen", oneDNN: false, impl: (x, w, b, g) => (b === null ? run("Conv2D", convAttrs(g), [x, w]) : biasAdd(run("Conv2D", convAttrs(g), [x, w]), b)) }],
    // with a bias, oneDNN adds it while writing the output, where BiasAdd would read it all again
    [oneDNNConv, {
      name: "onednn", oneDNN: true,
      impl: (x, w, b, g) => (b === null ? run("_MklNativeConv2D", mklConv(g), [x, w])
        : oneDNNBias ? run("_MklNativeConv2DWithBias", mklConv(g), [x, w, b]) : biasAdd(run("_MklNativeConv2D", mklConv(g), [x, w]), b)),
    }],
  ]);

  return {
    conv2d,
    conv2dRelu: [
      // each convolution above, then Relu as a pass of its own
      ...conv2d.map((c): Candidate<ConvRelu> => ({ ...c, impl: (x, w, b, g) => run("Relu", [T], [c.impl(x, w, b, g)]) })),
      ...only<ConvRelu>([
        [oneDNNFused, { name: "fused", oneDNN: true, impl: (x, w, b, g) => run("_MklNativeFusedConv2D", mklFused(g), [x, w, b]) }],
        [eigenFused, { name: "eigen-fused", oneDNN: false, impl: (x, w, b, g) => run("_FusedConv2D", fusedAttrs(g), [x, w, b]) }],
      ]),
    ],
    conv2dFilterGrad: only<FilterGrad>([
      [true, { name: "eigen", oneDNN: false, impl: (x, shape, dy, g) => run("Conv2DBackpropFilter", convAttrs(g), [x, intVector(shape), dy]) }],
      [oneDNNFilter, { name: "onednn", oneDNN: true, impl: (x, shape, dy, g) => run("_MklNativeConv2DBackpropFilter", [...convAttrs(g), mkl], [x, intVector(shape), dy]) }],
      // dW[i,j,c,o] = Σ x[n,h+i,w+j,c]·dy[n,h,w,o] is itself a convolution: of x with
      // batch and channels swapped, by dy as a filter whose input channels are the batch.
      [true, {
        name: "transposed", oneDNN: false,
        impl: (x, [kh, kw], dy, g) => transpose(run("Conv2D", convAttrs(UNIT_CONV, paddings(g, kh!, kw!, false)), [transpose(x, [3, 1, 2, 0]), transpose(dy, [1, 2, 0, 3])]), [1, 2, 0, 3]),
      }],
    ]),
    conv2dInputGrad: only<InputGrad>([
      [true, { name: "eigen", oneDNN: false, impl: (shape, w, dy, g) => run("Conv2DBackpropInput", convAttrs(g), [intVector(shape), w, dy]) }],
      [oneDNNInput, { name: "onednn", oneDNN: true, impl: (shape, w, dy, g) => run("_MklNativeConv2DBackpropInput", [...convAttrs(g), mkl], [intVector(shape), w, dy]) }],
      // the input's gradient is dy convolved, zero-padded, with the filter turned by 180° and its channels swapped
      [true, {
        name: "padded", oneDNN: false,
        impl: (_, w, dy, g) => {
          const [kh, kw] = w.shape as number[];
          const turned = transpose(run("ReverseV2", [T, type("Tidx", TF_INT32)], [w, intVector([0, 1])]), [0, 1, 3, 2]);
          return run("Conv2D", convAttrs(UNIT_CONV, paddings(g, kh!, kw!, true)), [dy, turned]);
        },
      }],
    ]),
    maxPool: only<Pool>([
      [oneDNNPool, {
        name: "onednn", oneDNN: true,
        impl: {
          forward: (x, p) => {
            // The workspace is uint8 in TensorFlow; tfjs labels it int32 but only ever hands it back to the gradient op.
            const [y, workspace] = backend.executeMultipleOutputs("_MklNativeMaxPool", mklPool(p), [x], 2) as [Tensor, Tensor];
            return { y, workspace };
          },
          backward: (x, { y, workspace }, dy, p) => run("_MklNativeMaxPoolGrad", mklPool(p), [x, y, dy, workspace!]),
        },
      }],
      [true, {
        name: "eigen", oneDNN: false,
        impl: {
          forward: (x, p) => ({ y: run("MaxPool", window(p), [x]), workspace: null }),
          backward: (x, { y }, dy, p) => run("MaxPoolGrad", window(p), [x, y, dy]),
        },
      }],
    ]),
    avgPool: only<AvgPool>([
      [true, {
        name: "eigen", oneDNN: false,
        impl: { forward: (x, p) => run("AvgPool", window(p), [x]), backward: (shape, dy, p) => run("AvgPoolGrad", window(p), [intVector(shape), dy]) },
      }],
      [oneDNNAvgPool, {
        name: "onednn", oneDNN: true,
        impl: { forward: (x, p) => run("_MklNativeAvgPool", mklAvgPool(p), [x]), backward: (shape, dy, p) => run("_MklNativeAvgPoolGrad", mklAvgPool(p), [intVector(shape), dy]) },
      }],
      // windows that tile the image exactly: each input's gradient is its window's dy over the window's size, one broadcast
      [true, {
        name: "broadcast", oneDNN: false,
        impl: {
          forward: (x, p) => run("AvgPool", window(p), [x]),
          backward: ([n, h, w, c], dy, { size: [sh, sw] }) => {
            const [ho, wo] = [h! / sh, w! / sw];
            const share = run("Mul", [T], [dy, floatScalar(1 / (sh * sw))]);
            const spread = run("BroadcastTo", [T, tidx], [run("Reshape", [T, tshape], [share, intVector([n!, ho, 1, wo, 1, c!])]), intVector([n!, ho, sh, wo, sw, c!])]);
            return run("Reshape", [T, tshape], [spread, intVector([n!, h!, w!, c!])]);
          },
        },
      }],
    ]),
    batchNorm: only<BatchNormKernel>([
      [true, { name: "eigen", oneDNN: false, impl: batchNormKernel("FusedBatchNormV3", "FusedBatchNormGradV3", []) }],
      [oneDNNBatchNorm, { name: "onednn", oneDNN: true, impl: batchNormKernel("_MklNativeFusedBatchNormV3", "_MklNativeFusedBatchNormGradV3", [mkl]) }],
    ]),
    // BatchMatMulV2 with 2-D operands, never MatMul: TensorFlow 2.21 runs MatMul (and
    // oneDNN's own matmul ops) on oneDNN's JIT sgemm for whole matrices, which points the
    // stack pointer into the heap, so a signal arriving meanwhile (a kernel interrupt's
    // SIGINT) writes its frame there and corrupts the heap (oneDNN issue 4845, fixed in
    // oneDNN 3.11.2). BatchMatMulV2 runs Eigen's blocked product.
    matMul: only<MatMul>([
      [true, { name: "adjoint", oneDNN: false, impl: batchMatMul }],
      [true, { name: "transposed", oneDNN: false, impl: (a, b, ta, tb) => batchMatMul(ta ? transpose(a, [1, 0]) : a, tb ? transpose(b, [1, 0]) : b, false, false) }],
    ]),
  };
}

const shapeOf = (t: Tensor) => `[${t.shape.join(",")}]`;

const describeConv = (g: ConvGeometry) =>
  (g.strides.some((s) => s !== 1) ? ` strides ${g.strides.join("×")}` : "") + (g.dilations.some((d) => d !== 1) ? ` dilation ${g.dilations.join("×")}` : "") + (g.padding === "same" ? " same" : "");
const describePool = (p: PoolGeometry) => `window ${p.size.join("×")}${p.strides.some((s, i) => s !== p.size[i]) ? ` strides ${p.strides.join("×")}` : ""}${p.padding === "same" ? " same" : ""}`;

function makeOps(backend: NativeBackend, tuner: Tuner, settings: KernelSettings): NativeOps {
  const attrs = attributes(backend);
  const { float: T, string, type } = attrs;
  const run = (op: string, opAttrs: OpAttr[], inputs: Tensor[]) => backend.executeSingleOutput(op, opAttrs, inputs);
  const nhwc = string("data_format", "NHWC");
  const all = candidates(backend, settings.withoutOneDNN);
  // A step run as one function (compiled.ts) gets oneDNN's softmax from TensorFlow's graph pass; eager
  // steps take it too, so that both give the same numbers.
  const mklSoftmax = [T, attrs.oneDNN];
  const oneDNNSoftmax = !settings.withoutOneDNN && hasOp(() => run("_MklSoftmax", mklSoftmax, [tf.zeros([1, 2])]));
  // the reformulations hold at stride 1 and dilation 1 only
  const forGeometry = <I>(list: Candidate<I>[], g: ConvGeometry) => (unitSteps(g) ? list : list.filter((c) => c.name === "eigen" || c.name === "onednn"));
  const pool = (x: Tensor, p: PoolGeometry) => tuner.choose("maxPool", `x ${shapeOf(x)} ${describePool(p)}`, all.maxPool, (k) => {
    const pooled = k.forward(x, p);
    k.backward(x, pooled, pooled.y, p);
  });
  const byWorkspace = (pooled: Pooled) => all.maxPool.find((c) => (c.name === "onednn") === (pooled.workspace !== null))!.impl;
  const avgPool = (x: Tensor | number[], p: PoolGeometry) => {
    const shape = Array.isArray(x) ? x : x.shape;
    const tiles = p.padding === "valid" && p.size.every((s, i) => p.strides[i] === s && shape[i + 1]! % s === 0);
    // Measured alone, the three take the same time; within the step, Eigen's AvgPoolGrad took twice the
    // broadcast's (4.0 against 2.1 ms, model 1 with average pooling, Xeon with AVX-512): so the broadcast
    // is the baseline where it applies, and another kernel must beat it by the tuner's margin.
    const candidates = tiles ? [...all.avgPool.filter((c) => c.name === "broadcast"), ...all.avgPool.filter((c) => c.name !== "broadcast")] : all.avgPool.filter((c) => c.name !== "broadcast");
    return tuner.choose("avgPool", `x [${shape.join(",")}] ${describePool(p)}`, candidates, (k) => {
      const input = Array.isArray(x) ? tf.zeros(x) : x;
      k.backward(shape, k.forward(input, p), p);
    });
  };
  const batchNorm = (x: Tensor) => tuner.choose("batchNorm", `x ${shapeOf(x)}`, all.batchNorm, (k) => {
    const channels = tf.ones([x.shape[3]!]);
    const { y, reserve } = k.training(x, channels, tf.zeros([x.shape[3]!]), 1e-3);
    k.backward(y, x, channels, reserve, 1e-3);
  });

  return {
    float: (op, inputs, extra = []) => run(op, [T, ...extra], inputs),
    attrs,
    relu: (x) => run("Relu", [T], [x]),
    reluGrad: (dy, y) => run("ReluGrad", [T], [dy, y]),
    convRelu: (x, w, b, g) =>
      tuner.choose("conv2dRelu", `x ${shapeOf(x)} w ${shapeOf(w)}${describeConv(g)} with bias`, all.conv2dRelu, (f) => f(x, w, b, g))(x, w, b, g),
    conv: (x, w, b, g = UNIT_CONV) =>
      tuner.choose("conv2d", `x ${shapeOf(x)} w ${shapeOf(w)}${describeConv(g)}${b === null ? "" : " with bias"}`, all.conv2d, (f) => f(x, w, b, g))(x, w, b, g),
    convFilterGrad: (x, filterShape, dy, g = UNIT_CONV) =>
      tuner.choose("conv2dFilterGrad", `x ${shapeOf(x)} dy ${shapeOf(dy)}${describeConv(g)}`, forGeometry(all.conv2dFilterGrad, g), (f) => f(x, filterShape, dy, g))(x, filterShape, dy, g),
    convInputGrad: (inputShape, w, dy, g = UNIT_CONV) =>
      tuner.choose("conv2dInputGrad", `w ${shapeOf(w)} dy ${shapeOf(dy)}${describeConv(g)}`, forGeometry(all.conv2dInputGrad, g), (f) => f(inputShape, w, dy, g))(inputShape, w, dy, g),
    biasAdd: (x, b) => run("BiasAdd", [T, nhwc], [x, b]),
    // On images, as rows of channels: the same sum, bit for bit, and in a step run as a function
    // oneDNN's graph pass no longer merges it with the filter's gradient (a slower kernel, rounding otherwise).
    biasGrad: (dy) => run("BiasAddGrad", [T, nhwc], [dy.rank === 2 ? dy : run("Reshape", [T, type("Tshape", backend.binding.TF_INT32)], [dy, intVector([-1, dy.shape[dy.rank - 1]!])])]),
    maxPool: (x, p) => pool(x, p).forward(x, p),
    // the kernel that pooled: a workspace only comes from oneDNN's
    maxPoolGrad: (x, pooled, dy, p) => byWorkspace(pooled).backward(x, pooled, dy, p),
    avgPool: (x, p) => avgPool(x, p).forward(x, p),
    avgPoolGrad: (shape, dy, p) => avgPool(shape, p).backward(shape, dy, p),
    batchNorm,
    matMul: (a, b, ta, tb) =>
      tuner.choose("matMul", `a ${shapeOf(a)}${ta ? "ᵀ" : ""} b ${shapeOf(b)}${tb ? "ᵀ" : ""}`, ta || tb ? all.matMul : all.matMul.slice(0, 1), (f) => f(a, b, ta, tb))(a, b, ta, tb),
    reshape: (x, shape) => run("Reshape", [T, type("Tshape", backend.binding.TF_INT32)], [x, intVector(shape)]),
    softmax: (x) => (oneDNNSoftmax ? run("_MklSoftmax", mklSoftmax, [x]) : run("Softmax", [T], [x])),
    softmaxCrossEntropy: (logits, labels) => {
      // The op wants float labels; tf.oneHot gives int32 ones.
      const y = labels.dtype === "float32" ? labels : tf.cast(labels, "float32");
      const result = backend.executeMultipleOutputs("SoftmaxCrossEntropyWithLogits", [T], [logits, y], 2) as [Tensor, Tensor];
      if (y !== labels) y.dispose();
      return result;
    },
    sparseSoftmaxCrossEntropy: (logits, labels) => {
      const y = labels.dtype === "int32" ? labels : tf.cast(labels, "int32");
      const result = backend.executeMultipleOutputs("SparseSoftmaxCrossEntropyWithLogits", [T, type("Tlabels", backend.binding.TF_INT32)], [logits, y], 2) as [Tensor, Tensor];
      if (y !== labels) y.dispose();
      return result;
    },
  };
}

let made: { ops: NativeOps; tuner: Tuner } | null = null;

/** TensorFlow's ops, or null outside the TensorFlow backend. DEEPCONV_KERNELS is read the first time. */
export function nativeOps(): NativeOps | null {
  const backend = native();
  if (backend === null) return null;
  if (made === null) {
    const settings = parseKernelSettings(process.env.DEEPCONV_KERNELS, KERNEL_CATALOGUE);
    const tuner = new Tuner({ machine: machineKey(backend.binding.TF_Version), store: fileStore(), settings });
    made = { ops: makeOps(backend, tuner, settings), tuner };
  }
  return made.ops;
}

/** The kernel chosen for each op and shape run so far in this process, and how it was chosen. */
export function kernelChoices(): KernelChoice[] {
  return made?.tuner.choices() ?? [];
}

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
import { attributes, hasOp, intVector, native, type NativeBackend, type OpAttr } from "./binding";
import { fileStore, machineKey, parseKernelSettings, Tuner, type Candidate, type KernelChoice, type KernelSettings } from "./tuner";

/** A max-pooling's output and what its gradient needs besides it. */
export interface Pooled {
  y: Tensor;
  /** oneDNN's workspace (which input won each window), or null where MaxPoolGrad recomputes it. */
  workspace: Tensor | null;
}

/**
 * The TensorFlow ops of the training step, float32, NHWC. Convolutions are
 * 'valid' with stride 1; max-pooling uses square, non-overlapping windows.
 */
export interface NativeOps {
  relu(x: Tensor): Tensor;
  /** dy where y > 0, else 0: the gradient of y = relu(x), from its output. */
  reluGrad(dy: Tensor, y: Tensor): Tensor;
  /** conv(x, w) + b. */
  conv(x: Tensor, w: Tensor, b: Tensor | null): Tensor;
  convInputGrad(inputShape: number[], w: Tensor, dy: Tensor): Tensor;
  convFilterGrad(x: Tensor, filterShape: number[], dy: Tensor): Tensor;
  biasAdd(x: Tensor, b: Tensor): Tensor;
  /** The bias's gradient, summed over every axis but the last, in one pass. */
  biasGrad(dy: Tensor): Tensor;
  maxPool(x: Tensor, size: number): Pooled;
  maxPoolGrad(x: Tensor, pooled: Pooled, dy: Tensor, size: number): Tensor;
  /** a·b, either side transposed. */
  matMul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor;
  reshape(x: Tensor, shape: number[]): Tensor;
  /** Each example's cross-entropy between one-hot `labels` and softmax(`logits`), and its gradient by the logits. */
  softmaxCrossEntropy(logits: Tensor, labels: Tensor): [losses: Tensor, gradient: Tensor];
}

type Conv = (x: Tensor, w: Tensor, b: Tensor | null) => Tensor;
type FilterGrad = (x: Tensor, filterShape: number[], dy: Tensor) => Tensor;
type InputGrad = (inputShape: number[], w: Tensor, dy: Tensor) => Tensor;
type Pool = { forward(x: Tensor, size: number): Pooled; backward(x: Tensor, pooled: Pooled, dy: Tensor, size: number): Tensor };
type MatMul = (a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean) => Tensor;

/** Each op's candidates on this TensorFlow build, baseline first (the kernel used before the tuner existed). */
export interface Candidates {
  conv2d: Candidate<Conv>[];
  conv2dFilterGrad: Candidate<FilterGrad>[];
  conv2dInputGrad: Candidate<InputGrad>[];
  maxPool: Candidate<Pool>[];
  matMul: Candidate<MatMul>[];
}

/** Every candidate's name per op, whether or not this build has it (for DEEPCONV_KERNELS). */
export const KERNEL_CATALOGUE: Record<keyof Candidates, string[]> = {
  conv2d: ["eigen", "onednn"],
  conv2dFilterGrad: ["eigen", "onednn", "transposed"],
  conv2dInputGrad: ["eigen", "onednn", "padded"],
  maxPool: ["onednn", "eigen"],
  matMul: ["adjoint", "transposed"],
};

/**
 * The candidates this TensorFlow build can run. `withoutOneDNN` leaves out
 * every oneDNN kernel, also inside the reformulations, as a build without
 * oneDNN would (tfjs-node's own download on macOS or Windows).
 */
export function candidates(backend: NativeBackend, withoutOneDNN = false): Candidates {
  const { float: T, bool, ints, string, oneDNN: mkl, type } = attributes(backend);
  const { TF_INT32 } = backend.binding;
  const run = (op: string, attrs: OpAttr[], inputs: Tensor[]) => backend.executeSingleOutput(op, attrs, inputs);
  const nhwc = string("data_format", "NHWC");
  const convAttrs = (padding: number[] | null) => [
    T, ints("strides", [1, 1, 1, 1]), bool("use_cudnn_on_gpu", true), string("padding", padding === null ? "VALID" : "EXPLICIT"),
    ints("explicit_paddings", padding ?? []), nhwc, ints("dilations", [1, 1, 1, 1]),
  ];
  const conv = convAttrs(null);
  const mklConv = [...conv, bool("is_filter_const", false), mkl];
  const window = (size: number) => [T, ints("ksize", [1, size, size, 1]), ints("strides", [1, size, size, 1]), string("padding", "VALID"), nhwc];
  const mklPool = (size: number) => [...window(size), ints("explicit_paddings", []), bool("workspace_enabled", true), mkl];
  const tperm = type("Tperm", TF_INT32);
  const z = (...shape: number[]) => tf.zeros(shape);
  const has = (op: string, attrs: OpAttr[], inputs: () => Tensor[], outputs = 1) =>
    !withoutOneDNN && hasOp(() => backend.executeMultipleOutputs(op, attrs, inputs(), outputs));

  const oneDNNConv = has("_MklNativeConv2D", mklConv, () => [z(1, 1, 1, 1), z(1, 1, 1, 1)]);
  const oneDNNBias = has("_MklNativeConv2DWithBias", mklConv, () => [z(1, 1, 1, 1), z(1, 1, 1, 1), z(1)]);
  const oneDNNFilter = has("_MklNativeConv2DBackpropFilter", [...conv, mkl], () => [z(1, 1, 1, 1), intVector([1, 1, 1, 1]), z(1, 1, 1, 1)]);
  const oneDNNInput = has("_MklNativeConv2DBackpropInput", [...conv, mkl], () => [intVector([1, 1, 1, 1]), z(1, 1, 1, 1), z(1, 1, 1, 1)]);
  const oneDNNPool = has("_MklNativeMaxPool", mklPool(2), () => [z(1, 2, 2, 1)], 2);
  // oneDNN's reorder transposes large tensors several times faster than Eigen's shuffle.
  const oneDNNTranspose = has("_MklTranspose", [T, tperm, mkl], () => [z(1, 2), intVector([1, 0])]);
  const transpose = (x: Tensor, perm: number[]) => run(oneDNNTranspose ? "_MklTranspose" : "Transpose", oneDNNTranspose ? [T, tperm, mkl] : [T, tperm], [x, intVector(perm)]);
  const biasAdd = (x: Tensor, b: Tensor) => run("BiasAdd", [T, nhwc], [x, b]);
  const batchMatMul = (a: Tensor, b: Tensor, adjA: boolean, adjB: boolean) => run("BatchMatMulV2", [T, bool("adj_x", adjA), bool("adj_y", adjB)], [a, b]);
  const only = <I>(list: [boolean, Candidate<I>][]) => list.filter(([available]) => available).map(([, c]) => c);

  return {
    conv2d: only<Conv>([
      [true, { name: "eigen", oneDNN: false, impl: (x, w, b) => (b === null ? run("Conv2D", conv, [x, w]) : biasAdd(run("Conv2D", conv, [x, w]), b)) }],
      // with a bias, oneDNN adds it while writing the output, where BiasAdd would read it all again
      [oneDNNConv, {
        name: "onednn", oneDNN: true,
        impl: (x, w, b) => (b === null ? run("_MklNativeConv2D", mklConv, [x, w])
          : oneDNNBias ? run("_MklNativeConv2DWithBias", mklConv, [x, w, b]) : biasAdd(run("_MklNativeConv2D", mklConv, [x, w]), b)),
      }],
    ]),
    conv2dFilterGrad: only<FilterGrad>([
      [true, { name: "eigen", oneDNN: false, impl: (x, shape, dy) => run("Conv2DBackpropFilter", conv, [x, intVector(shape), dy]) }],
      [oneDNNFilter, { name: "onednn", oneDNN: true, impl: (x, shape, dy) => run("_MklNativeConv2DBackpropFilter", [...conv, mkl], [x, intVector(shape), dy]) }],
      // dW[i,j,c,o] = Σ x[n,h+i,w+j,c]·dy[n,h,w,o] is itself a convolution: of x with
      // batch and channels swapped, by dy as a filter whose input channels are the batch.
      [true, { name: "transposed", oneDNN: false, impl: (x, _, dy) => transpose(run("Conv2D", conv, [transpose(x, [3, 1, 2, 0]), transpose(dy, [1, 2, 0, 3])]), [1, 2, 0, 3]) }],
    ]),
    conv2dInputGrad: only<InputGrad>([
      [true, { name: "eigen", oneDNN: false, impl: (shape, w, dy) => run("Conv2DBackpropInput", conv, [intVector(shape), w, dy]) }],
      [oneDNNInput, { name: "onednn", oneDNN: true, impl: (shape, w, dy) => run("_MklNativeConv2DBackpropInput", [...conv, mkl], [intVector(shape), w, dy]) }],
      // the input's gradient is dy convolved, zero-padded, with the filter turned by 180° and its channels swapped
      [true, {
        name: "padded", oneDNN: false,
        impl: (_, w, dy) => {
          const [kh, kw] = w.shape as number[];
          const turned = transpose(run("ReverseV2", [T, type("Tidx", TF_INT32)], [w, intVector([0, 1])]), [0, 1, 3, 2]);
          return run("Conv2D", convAttrs([0, 0, kh! - 1, kh! - 1, kw! - 1, kw! - 1, 0, 0]), [dy, turned]);
        },
      }],
    ]),
    maxPool: only<Pool>([
      [oneDNNPool, {
        name: "onednn", oneDNN: true,
        impl: {
          forward: (x, size) => {
            // The workspace is uint8 in TensorFlow; tfjs labels it int32 but only ever hands it back to the gradient op.
            const [y, workspace] = backend.executeMultipleOutputs("_MklNativeMaxPool", mklPool(size), [x], 2) as [Tensor, Tensor];
            return { y, workspace };
          },
          backward: (x, { y, workspace }, dy, size) => run("_MklNativeMaxPoolGrad", mklPool(size), [x, y, dy, workspace!]),
        },
      }],
      [true, {
        name: "eigen", oneDNN: false,
        impl: {
          forward: (x, size) => ({ y: run("MaxPool", window(size), [x]), workspace: null }),
          backward: (x, { y }, dy, size) => run("MaxPoolGrad", window(size), [x, y, dy]),
        },
      }],
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

function makeOps(backend: NativeBackend, tuner: Tuner, settings: KernelSettings): NativeOps {
  const { float: T, string, type } = attributes(backend);
  const run = (op: string, attrs: OpAttr[], inputs: Tensor[]) => backend.executeSingleOutput(op, attrs, inputs);
  const nhwc = string("data_format", "NHWC");
  const all = candidates(backend, settings.withoutOneDNN);
  const pool = (x: Tensor, size: number) => tuner.choose("maxPool", `x ${shapeOf(x)} window ${size}`, all.maxPool, (p) => {
    const pooled = p.forward(x, size);
    p.backward(x, pooled, pooled.y, size);
  });
  const byWorkspace = (pooled: Pooled) => all.maxPool.find((c) => (c.name === "onednn") === (pooled.workspace !== null))!.impl;

  return {
    relu: (x) => run("Relu", [T], [x]),
    reluGrad: (dy, y) => run("ReluGrad", [T], [dy, y]),
    conv: (x, w, b) => tuner.choose("conv2d", `x ${shapeOf(x)} w ${shapeOf(w)}${b === null ? "" : " with bias"}`, all.conv2d, (f) => f(x, w, b))(x, w, b),
    convFilterGrad: (x, filterShape, dy) =>
      tuner.choose("conv2dFilterGrad", `x ${shapeOf(x)} dy ${shapeOf(dy)}`, all.conv2dFilterGrad, (f) => f(x, filterShape, dy))(x, filterShape, dy),
    convInputGrad: (inputShape, w, dy) =>
      tuner.choose("conv2dInputGrad", `w ${shapeOf(w)} dy ${shapeOf(dy)}`, all.conv2dInputGrad, (f) => f(inputShape, w, dy))(inputShape, w, dy),
    biasAdd: (x, b) => run("BiasAdd", [T, nhwc], [x, b]),
    biasGrad: (dy) => run("BiasAddGrad", [T, nhwc], [dy]),
    maxPool: (x, size) => pool(x, size).forward(x, size),
    // the kernel that pooled: a workspace only comes from oneDNN's
    maxPoolGrad: (x, pooled, dy, size) => byWorkspace(pooled).backward(x, pooled, dy, size),
    matMul: (a, b, ta, tb) =>
      tuner.choose("matMul", `a ${shapeOf(a)}${ta ? "ᵀ" : ""} b ${shapeOf(b)}${tb ? "ᵀ" : ""}`, ta || tb ? all.matMul : all.matMul.slice(0, 1), (f) => f(a, b, ta, tb))(a, b, ta, tb),
    reshape: (x, shape) => run("Reshape", [T, type("Tshape", backend.binding.TF_INT32)], [x, intVector(shape)]),
    softmaxCrossEntropy: (logits, labels) => {
      // The op wants float labels; tf.oneHot gives int32 ones.
      const y = labels.dtype === "float32" ? labels : tf.cast(labels, "float32");
      const result = backend.executeMultipleOutputs("SoftmaxCrossEntropyWithLogits", [T], [logits, y], 2) as [Tensor, Tensor];
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

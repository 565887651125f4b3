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
 * one (measured: docs/PERFORMANCE.md). Each op's candidates are built in
 * ops/, one builder per op. Everything here needs the TensorFlow backend:
 * `nativeOps()` is null elsewhere, and the model then runs as tfjs-layers
 * runs it.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { attributes, hasOp, intVector, native, type NativeBackend, type OpAttr } from "./binding";
import { batchNormCandidates } from "./ops/batchNorm";
import { opContext } from "./ops/context";
import {
  conv2dCandidates,
  conv2dReluCandidates,
  filterGradCandidates,
  inputGradCandidates,
  type Conv,
  type ConvRelu,
  type FilterGrad,
  type InputGrad,
} from "./ops/conv";
import {
  UNIT_CONV,
  unitSteps,
  type BatchNormKernel,
  type ConvGeometry,
  type PoolGeometry,
  type Pooled,
} from "./ops/geometry";
import { matMulCandidates, type MatMul } from "./ops/matMul";
import { NO_WINOGRAD, winogradCandidates, winogradFits } from "./ops/winograd";
import { avgPoolCandidates, maxPoolCandidates, tilesExactly, type AvgPool, type MaxPool } from "./ops/pool";
import {
  fileStore,
  machineKey,
  parseKernelSettings,
  Tuner,
  type Candidate,
  type KernelChoice,
  type KernelSettings,
} from "./tuner";

export * from "./ops/geometry";

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

/** Each op's candidates on this TensorFlow build, its baseline first (another must beat it by the tuner's margin). */
export interface Candidates {
  conv2d: Candidate<Conv>[];
  conv2dRelu: Candidate<ConvRelu>[];
  conv2dFilterGrad: Candidate<FilterGrad>[];
  conv2dInputGrad: Candidate<InputGrad>[];
  maxPool: Candidate<MaxPool>[];
  avgPool: Candidate<AvgPool>[];
  batchNorm: Candidate<BatchNormKernel>[];
  matMul: Candidate<MatMul>[];
}

/** Every candidate's name per op, whether or not this build has it (for DEEPCONV_KERNELS). */
export const KERNEL_CATALOGUE: Record<keyof Candidates, string[]> = {
  conv2d: ["eigen", "onednn", "winograd2", "winograd2-fused", "winograd4", "winograd4-fused"],
  conv2dRelu: [
    "eigen",
    "onednn",
    "fused",
    "eigen-fused",
    "winograd2",
    "winograd2-fused",
    "winograd4",
    "winograd4-fused",
  ],
  conv2dFilterGrad: ["eigen", "onednn", "transposed", "winograd2", "winograd2-fused", "winograd4", "winograd4-fused"],
  conv2dInputGrad: ["eigen", "onednn", "padded", "winograd2", "winograd2-fused", "winograd4", "winograd4-fused"],
  maxPool: ["onednn", "eigen"],
  avgPool: ["eigen", "onednn", "broadcast"],
  batchNorm: ["eigen", "onednn"],
  matMul: ["adjoint", "transposed"],
};

/**
 * The candidates this TensorFlow build can run, one builder per op (ops/).
 * `withoutOneDNN` leaves out every oneDNN kernel, also inside the
 * reformulations, as a build without oneDNN would (tfjs-node's own download
 * on macOS or Windows); `withoutWinograd` the Winograd convolutions.
 */
export function candidates(backend: NativeBackend, withoutOneDNN = false, withoutWinograd = false): Candidates {
  const c = opContext(backend, withoutOneDNN);
  const conv2d = conv2dCandidates(c);
  const winograd = withoutWinograd ? NO_WINOGRAD : winogradCandidates(c);
  return {
    conv2d: [...conv2d, ...winograd.conv2d],
    conv2dRelu: [...conv2dReluCandidates(c, conv2d), ...winograd.conv2dRelu],
    conv2dFilterGrad: [...filterGradCandidates(c), ...winograd.conv2dFilterGrad],
    conv2dInputGrad: [...inputGradCandidates(c), ...winograd.conv2dInputGrad],
    maxPool: maxPoolCandidates(c),
    avgPool: avgPoolCandidates(c),
    batchNorm: batchNormCandidates(c),
    matMul: matMulCandidates(c),
  };
}

/**
 * Whether a candidate computes a convolution by this kernel at this geometry: TensorFlow's and oneDNN's kernels any,
 * the reformulations at unit steps, Winograd's at 3×3 and unit steps.
 */
export function convFits(name: string, kernel: number[], g: ConvGeometry): boolean {
  if (name.startsWith("winograd")) return winogradFits(kernel, g);
  return name === "transposed" || name === "padded" ? unitSteps(g) : true;
}

const shapeOf = (t: Tensor) => `[${t.shape.join(",")}]`;

const describeConv = (g: ConvGeometry) =>
  (g.strides.some((s) => s !== 1) ? ` strides ${g.strides.join("×")}` : "") +
  (g.dilations.some((d) => d !== 1) ? ` dilation ${g.dilations.join("×")}` : "") +
  (g.padding === "same" ? " same" : "");
const describePool = (p: PoolGeometry) =>
  `window ${p.size.join("×")}` +
  (p.strides.some((s, i) => s !== p.size[i]) ? ` strides ${p.strides.join("×")}` : "") +
  (p.padding === "same" ? " same" : "");

function makeOps(backend: NativeBackend, tuner: Tuner, settings: KernelSettings): NativeOps {
  const attrs = attributes(backend);
  const { float: T, string, type } = attrs;
  const run = (op: string, opAttrs: OpAttr[], inputs: Tensor[]) => backend.executeSingleOutput(op, opAttrs, inputs);
  const nhwc = string("data_format", "NHWC");
  const tshape = type("Tshape", backend.binding.TF_INT32);
  const all = candidates(backend, settings.withoutOneDNN, settings.withoutWinograd);
  /** The kernel the tuner keeps for `op` at `shape` among `list` (timed on `args` the first time), run on `args`. */
  const tuned = <A extends unknown[]>(
    op: keyof Candidates,
    shape: string,
    list: Candidate<(...args: A) => Tensor>[],
    ...args: A
  ) => tuner.choose(op, shape, list, (f) => f(...args))(...args);
  // A step run as one function (compiled.ts) gets oneDNN's softmax from TensorFlow's graph pass; eager
  // steps take it too, so that both give the same numbers.
  const mklSoftmax = [T, attrs.oneDNN];
  const oneDNNSoftmax = !settings.withoutOneDNN && hasOp(() => run("_MklSoftmax", mklSoftmax, [tf.zeros([1, 2])]));
  const forGeometry = <I>(list: Candidate<I>[], kernel: number[], g: ConvGeometry) =>
    list.filter((c) => convFits(c.name, kernel, g));
  const pool = (x: Tensor, p: PoolGeometry) =>
    tuner.choose("maxPool", `x ${shapeOf(x)} ${describePool(p)}`, all.maxPool, (k) => {
      const pooled = k.forward(x, p);
      k.backward(x, pooled, pooled.y, p);
    });
  const byWorkspace = (pooled: Pooled) =>
    all.maxPool.find((c) => (c.name === "onednn") === (pooled.workspace !== null))!.impl;
  const avgPool = (x: Tensor | number[], p: PoolGeometry) => {
    const shape = Array.isArray(x) ? x : x.shape;
    // Where the windows tile the image, the broadcast is the baseline (docs/PERFORMANCE.md: within the step it beats
    // AvgPoolGrad).
    const broadcast = all.avgPool.filter((c) => c.name === "broadcast");
    const others = all.avgPool.filter((c) => c.name !== "broadcast");
    return tuner.choose(
      "avgPool",
      `x [${shape.join(",")}] ${describePool(p)}`,
      tilesExactly(shape, p) ? [...broadcast, ...others] : others,
      (k) => {
        const input = Array.isArray(x) ? tf.zeros(x) : x;
        k.backward(shape, k.forward(input, p), p);
      },
    );
  };
  const batchNorm = (x: Tensor) =>
    tuner.choose("batchNorm", `x ${shapeOf(x)}`, all.batchNorm, (k) => {
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
      tuned(
        "conv2dRelu",
        `x ${shapeOf(x)} w ${shapeOf(w)}${describeConv(g)} with bias`,
        forGeometry(all.conv2dRelu, w.shape, g),
        x,
        w,
        b,
        g,
      ),
    conv: (x, w, b, g = UNIT_CONV) =>
      tuned(
        "conv2d",
        `x ${shapeOf(x)} w ${shapeOf(w)}${describeConv(g)}${b === null ? "" : " with bias"}`,
        forGeometry(all.conv2d, w.shape, g),
        x,
        w,
        b,
        g,
      ),
    convFilterGrad: (x, filterShape, dy, g = UNIT_CONV) =>
      tuned(
        "conv2dFilterGrad",
        `x ${shapeOf(x)} dy ${shapeOf(dy)}${describeConv(g)}`,
        forGeometry(all.conv2dFilterGrad, filterShape, g),
        x,
        filterShape,
        dy,
        g,
      ),
    convInputGrad: (inputShape, w, dy, g = UNIT_CONV) =>
      tuned(
        "conv2dInputGrad",
        `w ${shapeOf(w)} dy ${shapeOf(dy)}${describeConv(g)}`,
        forGeometry(all.conv2dInputGrad, w.shape, g),
        inputShape,
        w,
        dy,
        g,
      ),
    biasAdd: (x, b) => run("BiasAdd", [T, nhwc], [x, b]),
    // On images, as rows of channels: the same sum, bit for bit, and in a step run as a function
    // oneDNN's graph pass does not merge it with the filter's gradient (a slower kernel, rounding otherwise).
    biasGrad: (dy) =>
      run(
        "BiasAddGrad",
        [T, nhwc],
        [dy.rank === 2 ? dy : run("Reshape", [T, tshape], [dy, intVector([-1, dy.shape[dy.rank - 1]!])])],
      ),
    maxPool: (x, p) => pool(x, p).forward(x, p),
    // the kernel that pooled: a workspace only comes from oneDNN's
    maxPoolGrad: (x, pooled, dy, p) => byWorkspace(pooled).backward(x, pooled, dy, p),
    avgPool: (x, p) => avgPool(x, p).forward(x, p),
    avgPoolGrad: (shape, dy, p) => avgPool(shape, p).backward(shape, dy, p),
    batchNorm,
    matMul: (a, b, ta, tb) =>
      tuned(
        "matMul",
        `a ${shapeOf(a)}${ta ? "ᵀ" : ""} b ${shapeOf(b)}${tb ? "ᵀ" : ""}`,
        ta || tb ? all.matMul : all.matMul.slice(0, 1),
        a,
        b,
        ta,
        tb,
      ),
    reshape: (x, shape) => run("Reshape", [T, tshape], [x, intVector(shape)]),
    softmax: (x) => (oneDNNSoftmax ? run("_MklSoftmax", mklSoftmax, [x]) : run("Softmax", [T], [x])),
    softmaxCrossEntropy: (logits, labels) => {
      // The op wants float labels; tf.oneHot gives int32 ones.
      const y = labels.dtype === "float32" ? labels : tf.cast(labels, "float32");
      const result = backend.executeMultipleOutputs("SoftmaxCrossEntropyWithLogits", [T], [logits, y], 2) as [
        Tensor,
        Tensor,
      ];
      if (y !== labels) y.dispose();
      return result;
    },
    sparseSoftmaxCrossEntropy: (logits, labels) => {
      const y = labels.dtype === "int32" ? labels : tf.cast(labels, "int32");
      const result = backend.executeMultipleOutputs(
        "SparseSoftmaxCrossEntropyWithLogits",
        [T, type("Tlabels", backend.binding.TF_INT32)],
        [logits, y],
        2,
      ) as [Tensor, Tensor];
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

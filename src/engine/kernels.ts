/**
 * TensorFlow's own ops for the training step, called directly: the forward
 * and gradient ops of the layers stages.ts knows, the loss, dropout masks and
 * resource variables for the optimizer.
 *
 * Why these ops: tfjs differentiates ReLU as `dy · step(y)`, built from six
 * ops, where ReluGrad is one; tfjs's MaxPoolGrad recomputes each window's
 * maximum where oneDNN's max-pool keeps a workspace from the forward pass;
 * TensorFlow's stateless Philox generator draws dropout masks far faster than a
 * JavaScript one; tfjs's softmax cross-entropy is about twenty small ops,
 * SoftmaxCrossEntropyWithLogits one (measured: docs/PERFORMANCE.md). Everything here needs the TensorFlow backend: `nativeOps()` is null
 * elsewhere, and the model then runs as tfjs-layers runs it.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";

interface OpAttr {
  name: string;
  type: number;
  value: number | number[] | string | boolean;
}

interface NativeBackend {
  binding: {
    TF_ATTR_TYPE: number; TF_ATTR_STRING: number; TF_ATTR_INT: number; TF_ATTR_BOOL: number; TF_ATTR_SHAPE: number;
    TF_FLOAT: number; TF_INT32: number;
  };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: Tensor[]): Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: Tensor[], count: number): Tensor[];
}

function native(): NativeBackend | null {
  return tf.getBackend() === "tensorflow" ? (tf.backend() as unknown as NativeBackend) : null;
}

/** TensorFlow's uint8 (TF_DataType 4); tfjs-node labels such tensors int32, so only native ops may touch them. */
const TF_UINT8 = 4;

const constants = new Map<string, Tensor>();

/**
 * A small constant tensor (a shape, a scalar) made once and kept: steps run
 * inside tidy, and making it again each time costs an upload to TensorFlow.
 */
function constant(key: string, make: () => Tensor): Tensor {
  let tensor = constants.get(key);
  if (tensor === undefined) constants.set(key, (tensor = tf.keep(make())));
  return tensor;
}

/** A shape as the int32 tensor TensorFlow's ops take. */
const shapeTensor = (shape: number[]) => constant(`shape ${shape.join(",")}`, () => tf.tensor1d(shape, "int32"));
const floatScalar = (value: number) => constant(`float ${value}`, () => tf.scalar(value));

/** Whether this TensorFlow build runs the op `probe` calls (oneDNN's kernels are not in every build); makeOps asks once per process. */
function hasOp(probe: () => Tensor | Tensor[]): boolean {
  try {
    tf.tidy(() => {
      probe();
    });
    return true;
  } catch {
    return false;
  }
}

function withSeed(seed: [number, number], f: (seed: Tensor) => Tensor): Tensor {
  const seedTensor = tf.tensor1d(seed, "int32");
  try {
    return f(seedTensor);
  } finally {
    seedTensor.dispose();
  }
}

/** Uniform [0, 1) floats that depend only on `shape` and `seed` (two int32 words). */
export function statelessUniform(shape: number[], seed: [number, number]): Tensor {
  const backend = native();
  if (backend === null) return tf.randomUniform(shape, 0, 1, "float32", seed[0] * 1_000_003 + seed[1]);
  const { binding } = backend;
  return withSeed(seed, (seedTensor) => backend.executeSingleOutput("StatelessRandomUniform", [
    { name: "dtype", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    { name: "T", type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 },
    { name: "Tseed", type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 },
  ], [shapeTensor(shape), seedTensor]));
}

/**
 * Random bytes, one per element of `shape`, that depend only on `seed`, compared
 * with `threshold`: true where byte ≥ threshold. Philox's 32-bit words are the
 * cost of random numbers here, so four bytes per word make a mask in about a
 * quarter of the time of one float per unit.
 */
function randomBytesAtLeast(backend: NativeBackend, shape: number[], seed: [number, number], threshold: number): Tensor {
  const { binding } = backend;
  const count = shape.reduce((a, b) => a * b, 1);
  const type = (name: string, value: number): OpAttr => ({ name, type: binding.TF_ATTR_TYPE, value });
  return tf.tidy(() => {
    const words = withSeed(seed, (seedTensor) => backend.executeSingleOutput("StatelessRandomUniformFullInt", [
      type("dtype", binding.TF_INT32), type("T", binding.TF_INT32), type("Tseed", binding.TF_INT32),
    ], [shapeTensor([Math.ceil(count / 4)]), seedTensor]));
    const reshape = (t: Tensor, to: number[]) => backend.executeSingleOutput("Reshape", [type("T", TF_UINT8), type("Tshape", binding.TF_INT32)], [t, shapeTensor(to)]);
    let bytes = backend.executeSingleOutput("Bitcast", [type("T", binding.TF_INT32), type("type", TF_UINT8)], [words]);
    if (count % 4 !== 0) {
      bytes = backend.executeSingleOutput("Slice", [type("T", TF_UINT8), type("Index", binding.TF_INT32)], [reshape(bytes, [-1]), shapeTensor([0]), shapeTensor([count])]);
    }
    const bound = constant(`uint8 ${threshold}`, () => backend.executeSingleOutput("Cast", [
      type("SrcT", binding.TF_INT32), type("DstT", TF_UINT8), { name: "Truncate", type: binding.TF_ATTR_BOOL, value: false },
    ], [tf.scalar(threshold, "int32")]));
    return backend.executeSingleOutput("GreaterEqual", [type("T", TF_UINT8)], [reshape(bytes, shape), bound]);
  });
}

/**
 * Which units dropout keeps (true with probability 1 − rate), drawn from `seed`.
 * A rate that is a whole number of 256ths (0.25, 0.5, 0.125, …) is met exactly
 * by one random byte per unit; any other rate compares a uniform float with
 * it, as Keras does.
 */
export function keepMask(shape: number[], rate: number, seed: [number, number]): Tensor {
  const backend = native();
  const threshold = rate * 256;
  if (backend !== null && Number.isInteger(threshold) && threshold <= 255) return randomBytesAtLeast(backend, shape, seed, threshold);
  return tf.tidy(() => tf.greaterEqual(statelessUniform(shape, seed), rate));
}

/** Inverted dropout's multiplier: 1/(1−rate) for the units `keepMask` keeps, 0 for the others. */
export function dropoutMask(shape: number[], rate: number, seed: [number, number]): Tensor {
  const backend = native();
  const scale = 1 / (1 - rate);
  return tf.tidy(() => {
    const keep = keepMask(shape, rate, seed);
    // SelectV2 makes it in one pass, broadcasting its scalars (tfjs's where would tile them first).
    if (backend === null) return tf.mul(tf.cast(keep, "float32"), scale);
    return backend.executeSingleOutput("SelectV2", [{ name: "T", type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT }], [keep, floatScalar(scale), floatScalar(0)]);
  });
}

/** Inverted dropout with a mask drawn from `seed`: kept units are scaled by 1/(1−rate). */
export function dropout(x: Tensor, rate: number, seed: [number, number]): Tensor {
  return tf.tidy(() => tf.mul(x, dropoutMask(x.shape, rate, seed)));
}

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
  /** conv(x, w) + b; with a bias, oneDNN adds it while writing the output, where BiasAdd would read it all again. */
  conv(x: Tensor, w: Tensor, b: Tensor | null): Tensor;
  convInputGrad(inputShape: number[], w: Tensor, dy: Tensor): Tensor;
  convFilterGrad(x: Tensor, filterShape: number[], dy: Tensor): Tensor;
  biasAdd(x: Tensor, b: Tensor): Tensor;
  /** The bias's gradient, summed over every axis but the last, in one pass. */
  biasGrad(dy: Tensor): Tensor;
  maxPool(x: Tensor, size: number): Pooled;
  maxPoolGrad(x: Tensor, pooled: Pooled, dy: Tensor, size: number): Tensor;
  /** a·b, either side transposed in place. */
  matMul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor;
  reshape(x: Tensor, shape: number[]): Tensor;
  /** Each example's cross-entropy between one-hot `labels` and softmax(`logits`), and its gradient by the logits. */
  softmaxCrossEntropy(logits: Tensor, labels: Tensor): [losses: Tensor, gradient: Tensor];
}

let cachedOps: NativeOps | null = null;

/** TensorFlow's ops, or null outside the TensorFlow backend. */
export function nativeOps(): NativeOps | null {
  const backend = native();
  if (backend === null) return null;
  cachedOps ??= makeOps(backend);
  return cachedOps;
}

function makeOps(backend: NativeBackend): NativeOps {
  const { binding } = backend;
  const run = (op: string, attrs: OpAttr[], inputs: Tensor[]) => backend.executeSingleOutput(op, attrs, inputs);
  const T: OpAttr = { name: "T", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT };
  const nhwc: OpAttr = { name: "data_format", type: binding.TF_ATTR_STRING, value: "NHWC" };
  const mkl: OpAttr = { name: "_kernel", type: binding.TF_ATTR_STRING, value: "MklNameChangeOp" };
  const bool = (name: string, value: boolean): OpAttr => ({ name, type: binding.TF_ATTR_BOOL, value });
  const ints = (name: string, value: number[]): OpAttr => ({ name, type: binding.TF_ATTR_INT, value });
  const valid: OpAttr = { name: "padding", type: binding.TF_ATTR_STRING, value: "VALID" };
  const conv = [T, ints("strides", [1, 1, 1, 1]), bool("use_cudnn_on_gpu", true), valid, ints("explicit_paddings", []), nhwc, ints("dilations", [1, 1, 1, 1])];
  const convWithBias = [...conv, bool("is_filter_const", false), mkl];
  const window = (size: number) => [T, ints("ksize", [1, size, size, 1]), ints("strides", [1, size, size, 1]), valid, nhwc];
  // oneDNN's max-pool (what TensorFlow's graph optimiser uses for Keras) keeps a workspace for its gradient.
  const mklPool = (size: number) => [...window(size), ints("explicit_paddings", []), bool("workspace_enabled", true), mkl];

  const fusedBias = hasOp(() => run("_MklNativeConv2DWithBias", convWithBias, [tf.zeros([1, 1, 1, 1]), tf.zeros([1, 1, 1, 1]), tf.zeros([1])]));
  const mklPooling = hasOp(() => backend.executeMultipleOutputs("_MklNativeMaxPool", mklPool(2), [tf.zeros([1, 2, 2, 1])], 2));
  const biasAdd = (x: Tensor, b: Tensor) => run("BiasAdd", [T, nhwc], [x, b]);

  return {
    relu: (x) => run("Relu", [T], [x]),
    reluGrad: (dy, y) => run("ReluGrad", [T], [dy, y]),
    conv: (x, w, b) => {
      if (b === null) return run("Conv2D", conv, [x, w]);
      return fusedBias ? run("_MklNativeConv2DWithBias", convWithBias, [x, w, b]) : biasAdd(run("Conv2D", conv, [x, w]), b);
    },
    convInputGrad: (inputShape, w, dy) => run("Conv2DBackpropInput", conv, [shapeTensor(inputShape), w, dy]),
    convFilterGrad: (x, filterShape, dy) => run("Conv2DBackpropFilter", conv, [x, shapeTensor(filterShape), dy]),
    biasAdd,
    biasGrad: (dy) => run("BiasAddGrad", [T, nhwc], [dy]),
    maxPool: (x, size) => {
      if (!mklPooling) return { y: run("MaxPool", window(size), [x]), workspace: null };
      // The workspace is uint8 in TensorFlow; tfjs labels it int32 but only ever hands it back to the gradient op.
      const [y, workspace] = backend.executeMultipleOutputs("_MklNativeMaxPool", mklPool(size), [x], 2) as [Tensor, Tensor];
      return { y, workspace };
    },
    maxPoolGrad: (x, { y, workspace }, dy, size) => workspace === null
      ? run("MaxPoolGrad", window(size), [x, y, dy])
      : run("_MklNativeMaxPoolGrad", mklPool(size), [x, y, dy, workspace]),
    // BatchMatMulV2 with 2-D operands, not MatMul: TensorFlow 2.21 runs MatMul on
    // oneDNN's AVX-512 sgemm, whose JIT code points the stack pointer into the
    // heap, so a signal arriving meanwhile (a kernel interrupt's SIGINT) writes
    // its frame there and corrupts the heap (oneDNN issue 4845, fixed in oneDNN
    // 3.11.2). BatchMatMulV2 runs on oneDNN's matmul primitive.
    matMul: (a, b, transposeA, transposeB) => run("BatchMatMulV2", [T, bool("adj_x", transposeA), bool("adj_y", transposeB)], [a, b]),
    reshape: (x, shape) => run("Reshape", [T, { name: "Tshape", type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 }], [x, shapeTensor(shape)]),
    softmaxCrossEntropy: (logits, labels) => {
      // The op wants float labels; tf.oneHot gives int32 ones.
      const y = labels.dtype === "float32" ? labels : tf.cast(labels, "float32");
      const result = backend.executeMultipleOutputs("SoftmaxCrossEntropyWithLogits", [T], [logits, y], 2) as [Tensor, Tensor];
      if (y !== labels) y.dispose();
      return result;
    },
  };
}

let resourceCount = 0;

/**
 * A TensorFlow resource variable: float32 state that TensorFlow's training ops
 * update in place. Reads share its buffer; an update while a read is alive
 * writes to a fresh copy (TensorFlow's copy-on-write), so a tensor once read
 * never changes. Its memory is TensorFlow's until `dispose()`.
 */
export class ResourceVariable {
  private constructor(private readonly backend: NativeBackend, readonly handle: Tensor) {}

  /** A resource variable holding `initial`, or null outside the TensorFlow backend. */
  static create(initial: Tensor): ResourceVariable | null {
    const backend = native();
    if (backend === null) return null;
    const { binding } = backend;
    const handle = backend.executeSingleOutput("VarHandleOp", [
      { name: "container", type: binding.TF_ATTR_STRING, value: "" },
      { name: "shared_name", type: binding.TF_ATTR_STRING, value: `deep_convolution_${process.pid}_${resourceCount++}` },
      { name: "dtype", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
      { name: "shape", type: binding.TF_ATTR_SHAPE, value: initial.shape },
    ], []);
    const variable = new ResourceVariable(backend, tf.keep(handle));
    variable.assign(initial);
    return variable;
  }

  private dtype(): OpAttr {
    return { name: "dtype", type: this.backend.binding.TF_ATTR_TYPE, value: this.backend.binding.TF_FLOAT };
  }

  read(): Tensor {
    return this.backend.executeSingleOutput("ReadVariableOp", [this.dtype()], [this.handle]);
  }

  assign(value: Tensor): void {
    this.backend.executeMultipleOutputs("AssignVariableOp", [this.dtype()], [this.handle, value], 0);
  }

  /** Frees the variable's memory in TensorFlow (disposing the handle alone would not). */
  dispose(): void {
    const { binding } = this.backend;
    this.backend.executeMultipleOutputs("DestroyResourceOp", [
      { name: "ignore_lookup_error", type: binding.TF_ATTR_BOOL, value: true },
    ], [this.handle], 0);
    this.handle.dispose();
  }

  /**
   * One step of TensorFlow's ApplyAdadelta on this variable, in place:
   * Eg² ← ρ·Eg² + (1−ρ)·g², Δ = √(EΔ² + ε)/√(Eg² + ε)·g, θ ← θ − lr·Δ, EΔ² ← ρ·EΔ² + (1−ρ)·Δ².
   */
  applyAdadelta(accumulatedGrad: ResourceVariable, accumulatedDelta: ResourceVariable, hyper: { learningRate: Tensor; rho: Tensor; epsilon: Tensor }, gradient: Tensor): void {
    const { binding } = this.backend;
    this.backend.executeMultipleOutputs("ResourceApplyAdadelta", [
      { name: "T", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
      { name: "use_locking", type: binding.TF_ATTR_BOOL, value: false },
    ], [this.handle, accumulatedGrad.handle, accumulatedDelta.handle, hyper.learningRate, hyper.rho, hyper.epsilon, gradient], 0);
  }
}

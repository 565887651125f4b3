/**
 * The training step's hot spots, on TensorFlow ops that tfjs-node does not use.
 *
 * Profiled on model 1 (one step, batch 128): tfjs differentiates ReLU as
 * `dy · step(y)`, and tfjs-node builds `step` from IsNan, Greater, two Fills
 * and two Selects — 21 ms of a 76 ms step, where TensorFlow's own ReluGrad
 * takes under 1 ms. Dropout masks come from a JavaScript random generator
 * (14 ms for model 2's first mask) where TensorFlow's stateless Philox
 * generator takes 0.45 ms (random bytes) to 1.6 ms (floats).
 * MaxPoolGrad recomputes each window's maximum (8–14 ms); oneDNN's max-pool
 * keeps a workspace from the forward pass and needs under 1 ms for both.
 * Adadelta written in tfjs ops makes 14 passes over each weight (about 7 ms);
 * TensorFlow's ResourceApplyAdadelta updates resource variables in one.
 * Outside the TensorFlow backend the plain tfjs ops are used.
 */
import type { Tensor, Tensor2D, Tensor4D } from "@tensorflow/tfjs-node";
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

/** dy where y > 0, else 0: the gradient of y = relu(x) given its output. */
function reluGrad(dy: Tensor, y: Tensor): Tensor {
  const backend = native();
  if (backend === null) return tf.mul(dy, tf.step(y));
  const { binding } = backend;
  return backend.executeSingleOutput("ReluGrad", [{ name: "T", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT }], [dy, y]);
}

/** Uniform [0, 1) floats that depend only on `shape` and `seed` (two int32 words). */
export function statelessUniform(shape: number[], seed: [number, number]): Tensor {
  const backend = native();
  if (backend === null) return tf.randomUniform(shape, 0, 1, "float32", seed[0] * 1_000_003 + seed[1]);
  const { binding } = backend;
  return withShapeAndSeed(shape, seed, (shapeTensor, seedTensor) => backend.executeSingleOutput("StatelessRandomUniform", [
    { name: "dtype", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    { name: "T", type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 },
    { name: "Tseed", type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 },
  ], [shapeTensor, seedTensor]));
}

function withShapeAndSeed(shape: number[], seed: [number, number], f: (shape: Tensor, seed: Tensor) => Tensor): Tensor {
  const shapeTensor = tf.tensor1d(shape, "int32");
  const seedTensor = tf.tensor1d(seed, "int32");
  try {
    return f(shapeTensor, seedTensor);
  } finally {
    tf.dispose([shapeTensor, seedTensor]);
  }
}

/** TensorFlow's uint8 (TF_DataType 4); tfjs-node labels such tensors int32, so only native ops may touch them. */
const TF_UINT8 = 4;

/**
 * Random bytes, one per element of `shape`, that depend only on `seed`, compared
 * with `threshold`: true where byte ≥ threshold. Philox's 32-bit words are the
 * cost of random numbers here; four bytes per word make a mask of model 2's
 * first dropout (1.2 million units) in 0.45 ms where one float per unit takes 1.6.
 */
function randomBytesAtLeast(backend: NativeBackend, shape: number[], seed: [number, number], threshold: number): Tensor {
  const { binding } = backend;
  const count = shape.reduce((a, b) => a * b, 1);
  const type = (name: string, value: number): OpAttr => ({ name, type: binding.TF_ATTR_TYPE, value });
  return tf.tidy(() => {
    const words = withShapeAndSeed([Math.ceil(count / 4)], seed, (shapeTensor, seedTensor) => backend.executeSingleOutput("StatelessRandomUniformFullInt", [
      type("dtype", binding.TF_INT32), type("T", binding.TF_INT32), type("Tseed", binding.TF_INT32),
    ], [shapeTensor, seedTensor]));
    const reshape = (t: Tensor, to: number[]) => backend.executeSingleOutput("Reshape", [type("T", TF_UINT8), type("Tshape", binding.TF_INT32)], [t, tf.tensor1d(to, "int32")]);
    let bytes = backend.executeSingleOutput("Bitcast", [type("T", binding.TF_INT32), type("type", TF_UINT8)], [words]);
    if (count % 4 !== 0) {
      bytes = backend.executeSingleOutput("Slice", [type("T", TF_UINT8), type("Index", binding.TF_INT32)], [reshape(bytes, [-1]), tf.tensor1d([0], "int32"), tf.tensor1d([count], "int32")]);
    }
    const shaped = reshape(bytes, shape);
    const bound = backend.executeSingleOutput("Cast", [type("SrcT", binding.TF_INT32), type("DstT", TF_UINT8), { name: "Truncate", type: binding.TF_ATTR_BOOL, value: false }], [tf.scalar(threshold, "int32")]);
    return backend.executeSingleOutput("GreaterEqual", [type("T", TF_UINT8)], [shaped, bound]);
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

/** Inverted dropout with a mask drawn from `seed`: kept units are scaled by 1/(1−rate). */
export function dropout(x: Tensor, rate: number, seed: [number, number]): Tensor {
  return tf.tidy(() => tf.mul(x, tf.mul(tf.cast(keepMask(x.shape, rate, seed), "float32"), 1 / (1 - rate))));
}

type Save = (tensors: Tensor[]) => void;
type Unary = (x: Tensor) => Tensor;
/** tf.customGrad for one input whose gradient is one tensor. */
const withGradient = (f: (x: Tensor, save: Save) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor }) =>
  tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Unary;

/** relu(x), differentiated with TensorFlow's ReluGrad from its output. */
export const relu: Unary = withGradient((x, save) => {
  const y = tf.relu(x);
  save([y]);
  return { value: y, gradFunc: (dy, [y]) => reluGrad(dy, y!) };
});

/** Attributes of oneDNN's max-pool ops (the kernels TensorFlow's graph optimiser swaps in). */
function mklPoolAttrs(backend: NativeBackend, size: number): OpAttr[] {
  const { binding } = backend;
  return [
    { name: "T", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    { name: "ksize", type: binding.TF_ATTR_INT, value: [1, size, size, 1] },
    { name: "strides", type: binding.TF_ATTR_INT, value: [1, size, size, 1] },
    { name: "padding", type: binding.TF_ATTR_STRING, value: "VALID" },
    { name: "explicit_paddings", type: binding.TF_ATTR_INT, value: [] },
    { name: "data_format", type: binding.TF_ATTR_STRING, value: "NHWC" },
    { name: "workspace_enabled", type: binding.TF_ATTR_BOOL, value: true },
    { name: "_kernel", type: binding.TF_ATTR_STRING, value: "MklNameChangeOp" },
  ];
}

const mklMaxPools = new Map<number, Unary>();

function mklMaxPool(backend: NativeBackend, size: number): Unary {
  const attrs = mklPoolAttrs(backend, size);
  return withGradient((x, save) => {
    // The workspace (which input won each window) is uint8 in TensorFlow; tfjs
    // labels it int32 but only ever hands it back to the gradient op.
    const [y, workspace] = backend.executeMultipleOutputs("_MklNativeMaxPool", attrs, [x], 2) as [Tensor, Tensor];
    save([x, y, workspace]);
    return {
      value: y,
      gradFunc: (dy, [input, output, ws]) => backend.executeSingleOutput("_MklNativeMaxPoolGrad", attrs, [input!, output!, dy, ws!]),
    };
  });
}

const probed = new Map<string, boolean>();

/** Whether this TensorFlow build runs `op` (oneDNN's kernels are not in every build): `probe` runs it once, outside any gradient tape. */
function hasOp(op: string, probe: () => Tensor | Tensor[]): boolean {
  let works = probed.get(op);
  if (works === undefined) {
    try {
      tf.dispose(probe());
      works = true;
    } catch {
      works = false;
    }
    probed.set(op, works);
  }
  return works;
}

/** Max pooling over size×size windows with stride `size` ('valid', NHWC), as tf.maxPool computes it. */
export function maxPool(x: Tensor, size: number): Tensor {
  const backend = native();
  const works = backend !== null
    && hasOp("_MklNativeMaxPool", () => backend.executeMultipleOutputs("_MklNativeMaxPool", mklPoolAttrs(backend, 2), [tf.zeros([1, 2, 2, 1])], 2));
  if (!works) return tf.maxPool(x as Tensor4D, size, size, "valid");
  let pool = mklMaxPools.get(size);
  if (pool === undefined) mklMaxPools.set(size, (pool = mklMaxPool(backend!, size)));
  return pool(x);
}

const typeAttr = (backend: NativeBackend): OpAttr => ({ name: "T", type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT });
const nhwc = (backend: NativeBackend): OpAttr => ({ name: "data_format", type: backend.binding.TF_ATTR_STRING, value: "NHWC" });

/** Attributes of a 'valid', stride-1 NHWC convolution and its gradients. */
function convAttrs(backend: NativeBackend): OpAttr[] {
  const { binding } = backend;
  return [
    typeAttr(backend),
    { name: "strides", type: binding.TF_ATTR_INT, value: [1, 1, 1, 1] },
    { name: "use_cudnn_on_gpu", type: binding.TF_ATTR_BOOL, value: true },
    { name: "padding", type: binding.TF_ATTR_STRING, value: "VALID" },
    { name: "explicit_paddings", type: binding.TF_ATTR_INT, value: [] },
    nhwc(backend),
    { name: "dilations", type: binding.TF_ATTR_INT, value: [1, 1, 1, 1] },
  ];
}

/** oneDNN's convolution with the bias added in its output pass (what TensorFlow's graph optimiser makes of Conv2D + BiasAdd). */
function convWithBias(backend: NativeBackend, x: Tensor, w: Tensor, b: Tensor): Tensor {
  const { binding } = backend;
  return backend.executeSingleOutput("_MklNativeConv2DWithBias", [
    ...convAttrs(backend),
    { name: "is_filter_const", type: binding.TF_ATTR_BOOL, value: false },
    { name: "_kernel", type: binding.TF_ATTR_STRING, value: "MklNameChangeOp" },
  ], [x, w, b]);
}

/**
 * conv(x, w) + bias ('valid', stride 1, NHWC; no bias if null). With a bias,
 * oneDNN adds it while writing the convolution's output, where a separate
 * BiasAdd reads and writes it all again (conv1: 0.5 ms per step). The
 * gradients are Conv2DBackpropFilter, BiasAddGrad and, only if
 * `inputNeedsGradient` (not for the network's input images), Conv2DBackpropInput.
 */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null, inputNeedsGradient: boolean): Tensor {
  const backend = native();
  if (backend === null) {
    const y = tf.conv2d(x as Tensor4D, w as Tensor4D, 1, "valid");
    return bias === null ? y : tf.add(y, bias);
  }
  const attrs = convAttrs(backend);
  const fused = bias !== null
    && hasOp("_MklNativeConv2DWithBias", () => convWithBias(backend, tf.zeros([1, 1, 1, 1]), tf.zeros([1, 1, 1, 1]), tf.zeros([1])));
  const forward = (input: Tensor, weights: Tensor, b: Tensor | null) => {
    if (b === null) return backend.executeSingleOutput("Conv2D", attrs, [input, weights]);
    if (fused) return convWithBias(backend, input, weights, b);
    return backend.executeSingleOutput("BiasAdd", [typeAttr(backend), nhwc(backend)], [backend.executeSingleOutput("Conv2D", attrs, [input, weights]), b]);
  };
  // tf.customGrad differentiates every input it is given: pass x only when its gradient is wanted.
  const inputs = [...(inputNeedsGradient ? [x] : []), w, ...(bias === null ? [] : [bias])];
  const op = tf.customGrad(((...args: unknown[]) => {
    (args.pop() as Save)([]);
    const input = inputNeedsGradient ? (args[0] as Tensor) : x;
    const weights = args[inputNeedsGradient ? 1 : 0] as Tensor;
    const b = bias === null ? null : (args.at(-1) as Tensor);
    return {
      value: forward(input, weights, b),
      gradFunc: (dy: Tensor) => [
        ...(inputNeedsGradient ? [backend.executeSingleOutput("Conv2DBackpropInput", attrs, [tf.tensor1d(input.shape, "int32"), weights, dy])] : []),
        backend.executeSingleOutput("Conv2DBackpropFilter", attrs, [input, tf.tensor1d(weights.shape, "int32"), dy]),
        ...(b === null ? [] : [backend.executeSingleOutput("BiasAddGrad", [typeAttr(backend), nhwc(backend)], [dy])]),
      ],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...tensors: Tensor[]) => Tensor;
  return op(...inputs);
}

/**
 * a·b with either side transposed, on TensorFlow's BatchMatMulV2 with 2-D
 * operands (tfjs-node reshapes to 3-D around it). Not MatMul: TensorFlow 2.21
 * runs MatMul on oneDNN's AVX-512 sgemm, whose JIT code points the stack
 * pointer into the heap, so a signal arriving meanwhile (a kernel interrupt's
 * SIGINT) writes its frame there and corrupts the heap (oneDNN issue 4845,
 * fixed in oneDNN 3.11.2). BatchMatMulV2 runs on oneDNN's matmul primitive.
 */
function matMul(backend: NativeBackend, a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  const { binding } = backend;
  return backend.executeSingleOutput("BatchMatMulV2", [
    typeAttr(backend),
    { name: "adj_x", type: binding.TF_ATTR_BOOL, value: transposeA },
    { name: "adj_y", type: binding.TF_ATTR_BOOL, value: transposeB },
  ], [a, b]);
}

type Binary = (x: Tensor, b: Tensor) => Tensor;
type Ternary = (x: Tensor, w: Tensor, b: Tensor) => Tensor;

/**
 * x + b for a bias b over x's last axis. Its gradient for b is TensorFlow's
 * BiasAddGrad (one pass) where tfjs sums over the broadcast axes and reshapes.
 */
export function biasAdd(x: Tensor, b: Tensor): Tensor {
  const backend = native();
  if (backend === null) return tf.add(x, b);
  return (tf.customGrad(((input: Tensor, bias: Tensor, save: Save) => {
    save([]);
    return {
      value: backend.executeSingleOutput("BiasAdd", [typeAttr(backend), nhwc(backend)], [input, bias]),
      gradFunc: (dy: Tensor) => [dy, backend.executeSingleOutput("BiasAddGrad", [typeAttr(backend), nhwc(backend)], [dy])],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Binary)(x, b);
}

/**
 * A Dense layer's x·w + b, through relu if asked, on TensorFlow's matrix
 * product, BiasAdd and Relu; its gradients are ReluGrad, BiasAddGrad and two products
 * with transposes (dx = g·wᵀ, dw = xᵀ·g), with no reshapes or transposes.
 */
export function dense(x: Tensor, w: Tensor, b: Tensor, activation: "relu" | "linear"): Tensor {
  const backend = native();
  if (backend === null) {
    const z = tf.add(tf.matMul(x as Tensor2D, w as Tensor2D), b);
    return activation === "relu" ? relu(z) : z;
  }
  return (tf.customGrad(((input: Tensor, weights: Tensor, bias: Tensor, save: Save) => {
    const z = backend.executeSingleOutput("BiasAdd", [typeAttr(backend), nhwc(backend)], [matMul(backend, input, weights, false, false), bias]);
    const y = activation === "relu" ? tf.relu(z) : z;
    save([input, weights, y]);
    return {
      value: y,
      gradFunc: (dy: Tensor, [xs, ws, ys]: Tensor[]) => {
        const g = activation === "relu" ? reluGrad(dy, ys!) : dy;
        return [matMul(backend, g, ws!, false, true), matMul(backend, xs!, g, true, false), backend.executeSingleOutput("BiasAddGrad", [typeAttr(backend), nhwc(backend)], [g])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Ternary)(x, w, b);
}

/**
 * The sum over the batch of the cross-entropy between one-hot `labels` and
 * softmax(`logits`), on TensorFlow's SoftmaxCrossEntropyWithLogits (the op
 * Keras's loss runs): one op gives every sample's loss and its gradient, where
 * tfjs's softmaxCrossEntropy takes about twenty small ops forward and back.
 */
export function softmaxCrossEntropySum(labels: Tensor, logits: Tensor): Tensor {
  const backend = native();
  if (backend === null) return tf.losses.softmaxCrossEntropy(labels, logits, undefined, undefined, tf.Reduction.SUM);
  return withGradient((z, save) => {
    // The op wants float labels; tf.oneHot gives int32 ones.
    const y = labels.dtype === "float32" ? labels : tf.cast(labels, "float32");
    const [losses, backprop] = backend.executeMultipleOutputs("SoftmaxCrossEntropyWithLogits", [typeAttr(backend)], [z, y], 2) as [Tensor, Tensor];
    if (y !== labels) y.dispose();
    save([backprop]);
    return { value: tf.sum(losses), gradFunc: (dy, [gradient]) => tf.mul(gradient!, dy) };
  })(logits);
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

/**
 * What every builder of candidate kernels shares: the op runner on the
 * binding, the attributes TensorFlow's NHWC ops take, and whether this build
 * has an oneDNN kernel (never, when oneDNN is left out as a build without it
 * would be).
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../../core/backend";
import { attributes, hasOp, intVector, type NativeBackend, type OpAttr } from "../binding";
import type { Candidate } from "../tuner";
import type { ConvGeometry, PoolGeometry } from "./geometry";

export interface OpContext {
  backend: NativeBackend;
  attrs: ReturnType<typeof attributes>;
  run(op: string, attrs: OpAttr[], inputs: Tensor[]): Tensor;
  nhwc: OpAttr;
  /** A convolution's attributes; `explicit` pads [0, 0, top, bottom, left, right, 0, 0] instead of its padding. */
  convAttrs(g: ConvGeometry, explicit?: number[] | null): OpAttr[];
  /** The same, for oneDNN's convolution ops. */
  mklConv(g: ConvGeometry): OpAttr[];
  /** A pooling window's attributes. */
  window(p: PoolGeometry): OpAttr[];
  /** Whether this build runs oneDNN's `op` on `inputs` (false whenever oneDNN is left out). */
  hasOneDNN(op: string, attrs: OpAttr[], inputs: () => Tensor[], outputs?: number): boolean;
  /**
   * x with its axes permuted, by oneDNN's reorder where there is one (several times faster than Eigen's on large
   * tensors).
   */
  transpose(x: Tensor, perm: number[]): Tensor;
}

const spatial = ([h, w]: [number, number]) => [1, h, w, 1];

export function opContext(backend: NativeBackend, withoutOneDNN: boolean): OpContext {
  const attrs = attributes(backend);
  const { float: T, bool, ints, string, type, oneDNN: mkl } = attrs;
  const run = (op: string, opAttrs: OpAttr[], inputs: Tensor[]) => backend.executeSingleOutput(op, opAttrs, inputs);
  const nhwc = string("data_format", "NHWC");
  const convAttrs = (g: ConvGeometry, explicit: number[] | null = null) => [
    T,
    ints("strides", spatial(g.strides)),
    bool("use_cudnn_on_gpu", true),
    string("padding", explicit === null ? g.padding.toUpperCase() : "EXPLICIT"),
    ints("explicit_paddings", explicit ?? []),
    nhwc,
    ints("dilations", spatial(g.dilations)),
  ];
  const hasOneDNN = (op: string, opAttrs: OpAttr[], inputs: () => Tensor[], outputs = 1) =>
    !withoutOneDNN && hasOp(() => backend.executeMultipleOutputs(op, opAttrs, inputs(), outputs));
  const tperm = type("Tperm", backend.binding.TF_INT32);
  const oneDNNTranspose = hasOneDNN("_MklTranspose", [T, tperm, mkl], () => [tf.zeros([1, 2]), intVector([1, 0])]);
  return {
    backend,
    attrs,
    run,
    nhwc,
    convAttrs,
    mklConv: (g) => [...convAttrs(g), bool("is_filter_const", false), mkl],
    window: (p) => [
      T,
      ints("ksize", spatial(p.size)),
      ints("strides", spatial(p.strides)),
      string("padding", p.padding.toUpperCase()),
      nhwc,
    ],
    hasOneDNN,
    transpose: (x, perm) =>
      run(oneDNNTranspose ? "_MklTranspose" : "Transpose", oneDNNTranspose ? [T, tperm, mkl] : [T, tperm], [
        x,
        intVector(perm),
      ]),
  };
}

/** The candidates whose kernel this build has. */
export const available = <I>(list: Array<[boolean, Candidate<I>]>): Candidate<I>[] =>
  list.filter(([has]) => has).map(([, c]) => c);

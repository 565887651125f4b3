/**
 * The candidate kernels of a convolution's three passes: the forward pass
 * (alone, and with its bias and relu), the filter's gradient and the input's
 * gradient. Each has TensorFlow's Eigen kernel and oneDNN's where the build
 * has it, and a reformulation on another op where one holds (stride 1,
 * dilation 1).
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../../core/backend";
import { hasOp, intVector } from "../binding";
import type { Candidate } from "../tuner";
import { available, type OpContext } from "./context";
import { UNIT_CONV, type ConvGeometry } from "./geometry";

export type Conv = (x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry) => Tensor;
export type ConvRelu = (x: Tensor, w: Tensor, b: Tensor, g: ConvGeometry) => Tensor;
export type FilterGrad = (x: Tensor, filterShape: number[], dy: Tensor, g: ConvGeometry) => Tensor;
export type InputGrad = (inputShape: number[], w: Tensor, dy: Tensor, g: ConvGeometry) => Tensor;

const z = (...shape: number[]) => tf.zeros(shape);
const probe = () => [z(1, 1, 1, 1), z(1, 1, 1, 1)];
const probeWithBias = () => [z(1, 1, 1, 1), z(1, 1, 1, 1), z(1)];

/** 'same' padding before and after, per spatial axis, at stride 1: TensorFlow puts the odd one after. */
function samePadding(kernel: number): [number, number] {
  const before = Math.floor((kernel - 1) / 2);
  return [before, kernel - 1 - before];
}

/**
 * Explicit paddings [0, 0, top, bottom, left, right, 0, 0] of a stride-1
 * convolution with a kh×kw kernel; `turned`: those of its input's gradient,
 * which pads dy by what the forward pass did not (k − 1 − pad, sides swapped).
 */
function paddings(g: ConvGeometry, kh: number, kw: number, turned: boolean): number[] {
  const [[top, bottom], [left, right]] =
    g.padding === "valid"
      ? [
          [0, 0],
          [0, 0],
        ]
      : [samePadding(kh), samePadding(kw)];
  return turned
    ? [0, 0, kh - 1 - top, kh - 1 - bottom, kw - 1 - left, kw - 1 - right, 0, 0]
    : [0, 0, top, bottom, left, right, 0, 0];
}

/** conv(x, w) + b: Eigen's, with BiasAdd after; oneDNN's, adding the bias while it writes the output. */
export function conv2dCandidates(c: OpContext): Candidate<Conv>[] {
  const { run, convAttrs, mklConv } = c;
  const biasAdd = (x: Tensor, b: Tensor) => run("BiasAdd", [c.attrs.float, c.nhwc], [x, b]);
  const oneDNNBias = c.hasOneDNN("_MklNativeConv2DWithBias", mklConv(UNIT_CONV), probeWithBias);
  const oneDNN = (x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry) => {
    if (b === null) return run("_MklNativeConv2D", mklConv(g), [x, w]);
    return oneDNNBias
      ? run("_MklNativeConv2DWithBias", mklConv(g), [x, w, b])
      : biasAdd(run("_MklNativeConv2D", mklConv(g), [x, w]), b);
  };
  return available<Conv>([
    [
      true,
      {
        name: "eigen",
        oneDNN: false,
        impl: (x, w, b, g) =>
          b === null ? run("Conv2D", convAttrs(g), [x, w]) : biasAdd(run("Conv2D", convAttrs(g), [x, w]), b),
      },
    ],
    [c.hasOneDNN("_MklNativeConv2D", mklConv(UNIT_CONV), probe), { name: "onednn", oneDNN: true, impl: oneDNN }],
  ]);
}

/**
 * relu(conv(x, w) + b): each of `conv2d` with Relu as a pass of its own, or one kernel applying bias and relu as it
 * writes.
 */
export function conv2dReluCandidates(c: OpContext, conv2d: Candidate<Conv>[]): Candidate<ConvRelu>[] {
  const { run, attrs } = c;
  const { float: T, int, types, strings, f32, bool, oneDNN: mkl } = attrs;
  // a string list and a type list: the patched binding takes them
  const fusedAttrs = (g: ConvGeometry) => [
    ...c.convAttrs(g),
    int("num_args", 1),
    types("TArgs", [c.backend.binding.TF_FLOAT]),
    strings("fused_ops", ["BiasAdd", "Relu"]),
    f32("epsilon", 1e-4),
    f32("leakyrelu_alpha", 0.2),
  ];
  const mklFused = (g: ConvGeometry) => [...fusedAttrs(g), bool("is_filter_const", false), mkl];
  const eigenFused = hasOp(() => run("_FusedConv2D", fusedAttrs(UNIT_CONV), probeWithBias()));
  return [
    ...conv2d.map((k): Candidate<ConvRelu> => ({ ...k, impl: (x, w, b, g) => run("Relu", [T], [k.impl(x, w, b, g)]) })),
    ...available<ConvRelu>([
      [
        c.hasOneDNN("_MklNativeFusedConv2D", mklFused(UNIT_CONV), probeWithBias),
        { name: "fused", oneDNN: true, impl: (x, w, b, g) => run("_MklNativeFusedConv2D", mklFused(g), [x, w, b]) },
      ],
      [
        eigenFused,
        { name: "eigen-fused", oneDNN: false, impl: (x, w, b, g) => run("_FusedConv2D", fusedAttrs(g), [x, w, b]) },
      ],
    ]),
  ];
}

/**
 * dW: Eigen's and oneDNN's gradient ops, and at unit steps a reformulation:
 * dW[i,j,c,o] = Σ x[n,h+i,w+j,c]·dy[n,h,w,o] is itself a convolution, of x
 * with batch and channels swapped, by dy as a filter whose input channels are
 * the batch.
 */
export function filterGradCandidates(c: OpContext): Candidate<FilterGrad>[] {
  const { run, convAttrs, transpose } = c;
  const mkl = c.attrs.oneDNN;
  const oneDNN = c.hasOneDNN("_MklNativeConv2DBackpropFilter", [...convAttrs(UNIT_CONV), mkl], () => [
    z(1, 1, 1, 1),
    intVector([1, 1, 1, 1]),
    z(1, 1, 1, 1),
  ]);
  return available<FilterGrad>([
    [
      true,
      {
        name: "eigen",
        oneDNN: false,
        impl: (x, shape, dy, g) => run("Conv2DBackpropFilter", convAttrs(g), [x, intVector(shape), dy]),
      },
    ],
    [
      oneDNN,
      {
        name: "onednn",
        oneDNN: true,
        impl: (x, shape, dy, g) =>
          run("_MklNativeConv2DBackpropFilter", [...convAttrs(g), mkl], [x, intVector(shape), dy]),
      },
    ],
    [
      true,
      {
        name: "transposed",
        oneDNN: false,
        impl: (x, [kh, kw], dy, g) => {
          const product = run("Conv2D", convAttrs(UNIT_CONV, paddings(g, kh!, kw!, false)), [
            transpose(x, [3, 1, 2, 0]),
            transpose(dy, [1, 2, 0, 3]),
          ]);
          return transpose(product, [1, 2, 0, 3]);
        },
      },
    ],
  ]);
}

/**
 * dx: Eigen's and oneDNN's gradient ops, and at unit steps dy convolved, zero-padded, with the filter turned by 180°
 * and its channels swapped.
 */
export function inputGradCandidates(c: OpContext): Candidate<InputGrad>[] {
  const { run, convAttrs, transpose } = c;
  const { float: T, type, oneDNN: mkl } = c.attrs;
  const oneDNN = c.hasOneDNN("_MklNativeConv2DBackpropInput", [...convAttrs(UNIT_CONV), mkl], () => [
    intVector([1, 1, 1, 1]),
    z(1, 1, 1, 1),
    z(1, 1, 1, 1),
  ]);
  return available<InputGrad>([
    [
      true,
      {
        name: "eigen",
        oneDNN: false,
        impl: (shape, w, dy, g) => run("Conv2DBackpropInput", convAttrs(g), [intVector(shape), w, dy]),
      },
    ],
    [
      oneDNN,
      {
        name: "onednn",
        oneDNN: true,
        impl: (shape, w, dy, g) =>
          run("_MklNativeConv2DBackpropInput", [...convAttrs(g), mkl], [intVector(shape), w, dy]),
      },
    ],
    [
      true,
      {
        name: "padded",
        oneDNN: false,
        impl: (_, w, dy, g) => {
          const [kh, kw] = w.shape as number[];
          const turned = transpose(
            run("ReverseV2", [T, type("Tidx", c.backend.binding.TF_INT32)], [w, intVector([0, 1])]),
            [0, 1, 3, 2],
          );
          return run("Conv2D", convAttrs(UNIT_CONV, paddings(g, kh!, kw!, true)), [dy, turned]);
        },
      },
    ],
  ]);
}

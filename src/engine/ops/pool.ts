/**
 * The candidate kernels of max- and average-pooling, forward and backward
 * by the same kernel: oneDNN's max-pool keeps a workspace from the forward
 * pass where MaxPoolGrad recomputes each window's maximum.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../../core/backend";
import { floatScalar, intVector } from "../binding";
import type { Candidate } from "../tuner";
import { available, type OpContext } from "./context";
import { squarePool, type PoolGeometry, type Pooled } from "./geometry";

export type MaxPool = {
  forward(x: Tensor, window: PoolGeometry): Pooled;
  backward(x: Tensor, pooled: Pooled, dy: Tensor, window: PoolGeometry): Tensor;
};
export type AvgPool = {
  forward(x: Tensor, window: PoolGeometry): Tensor;
  backward(inputShape: number[], dy: Tensor, window: PoolGeometry): Tensor;
};

export function maxPoolCandidates(c: OpContext): Candidate<MaxPool>[] {
  const { run, window } = c;
  const { ints, bool, oneDNN: mkl } = c.attrs;
  const mklPool = (p: PoolGeometry) => [
    ...window(p),
    ints("explicit_paddings", []),
    bool("workspace_enabled", true),
    mkl,
  ];
  return available<MaxPool>([
    [
      c.hasOneDNN("_MklNativeMaxPool", mklPool(squarePool(2)), () => [tf.zeros([1, 2, 2, 1])], 2),
      {
        name: "onednn",
        oneDNN: true,
        impl: {
          forward: (x, p) => {
            // The workspace is uint8 in TensorFlow; tfjs labels it int32 but only ever hands it back to the gradient
            // op.
            const [y, workspace] = c.backend.executeMultipleOutputs("_MklNativeMaxPool", mklPool(p), [x], 2) as [
              Tensor,
              Tensor,
            ];
            return { y, workspace };
          },
          backward: (x, { y, workspace }, dy, p) => run("_MklNativeMaxPoolGrad", mklPool(p), [x, y, dy, workspace!]),
        },
      },
    ],
    [
      true,
      {
        name: "eigen",
        oneDNN: false,
        impl: {
          forward: (x, p) => ({ y: run("MaxPool", window(p), [x]), workspace: null }),
          backward: (x, { y }, dy, p) => run("MaxPoolGrad", window(p), [x, y, dy]),
        },
      },
    ],
  ]);
}

/** Whether the windows tile an image of `shape` exactly, which the "broadcast" gradient needs. */
export const tilesExactly = (shape: number[], p: PoolGeometry) =>
  p.padding === "valid" && p.size.every((s, i) => p.strides[i] === s && shape[i + 1]! % s === 0);

export function avgPoolCandidates(c: OpContext): Candidate<AvgPool>[] {
  const { run, window } = c;
  const { float: T, type, oneDNN: mkl } = c.attrs;
  const mklAvgPool = (p: PoolGeometry) => [...window(p), mkl];
  const [tidx, tshape] = [type("Tidx", c.backend.binding.TF_INT32), type("Tshape", c.backend.binding.TF_INT32)];
  return available<AvgPool>([
    [
      true,
      {
        name: "eigen",
        oneDNN: false,
        impl: {
          forward: (x, p) => run("AvgPool", window(p), [x]),
          backward: (shape, dy, p) => run("AvgPoolGrad", window(p), [intVector(shape), dy]),
        },
      },
    ],
    [
      c.hasOneDNN("_MklNativeAvgPool", mklAvgPool(squarePool(2)), () => [tf.zeros([1, 2, 2, 1])]),
      {
        name: "onednn",
        oneDNN: true,
        impl: {
          forward: (x, p) => run("_MklNativeAvgPool", mklAvgPool(p), [x]),
          backward: (shape, dy, p) => run("_MklNativeAvgPoolGrad", mklAvgPool(p), [intVector(shape), dy]),
        },
      },
    ],
    // where the windows tile the image: each input's gradient is its window's dy over the window's size, one broadcast
    [
      true,
      {
        name: "broadcast",
        oneDNN: false,
        impl: {
          forward: (x, p) => run("AvgPool", window(p), [x]),
          backward: ([n, h, w, ch], dy, { size: [sh, sw] }) => {
            const [ho, wo] = [h! / sh, w! / sw];
            const share = run("Mul", [T], [dy, floatScalar(1 / (sh * sw))]);
            const spread = run(
              "BroadcastTo",
              [T, tidx],
              [
                run("Reshape", [T, tshape], [share, intVector([n!, ho, 1, wo, 1, ch!])]),
                intVector([n!, ho, sh, wo, sw, ch!]),
              ],
            );
            return run("Reshape", [T, tshape], [spread, intVector([n!, h!, w!, ch!])]);
          },
        },
      },
    ],
  ]);
}

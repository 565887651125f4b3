/**
 * The candidate kernels of a matrix product, either side transposed:
 * BatchMatMulV2's adjoint flags, or an explicit transpose first.
 *
 * Both are BatchMatMulV2 with 2-D operands, never MatMul: TensorFlow 2.21
 * runs MatMul (and oneDNN's own matmul ops) on oneDNN's JIT sgemm for whole
 * matrices, which points the stack pointer into the heap, so a signal arriving
 * meanwhile (a kernel interrupt's SIGINT) writes its frame there and corrupts
 * the heap (oneDNN issue 4845, fixed in oneDNN 3.11.2). BatchMatMulV2 runs
 * Eigen's blocked product.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import type { Candidate } from "../tuner";
import type { OpContext } from "./context";

export type MatMul = (a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean) => Tensor;

export function matMulCandidates(c: OpContext): Candidate<MatMul>[] {
  const { float: T, bool } = c.attrs;
  const batchMatMul: MatMul = (a, b, adjA, adjB) =>
    c.run("BatchMatMulV2", [T, bool("adj_x", adjA), bool("adj_y", adjB)], [a, b]);
  return [
    { name: "adjoint", oneDNN: false, impl: batchMatMul },
    {
      name: "transposed",
      oneDNN: false,
      impl: (a, b, ta, tb) =>
        batchMatMul(ta ? c.transpose(a, [1, 0]) : a, tb ? c.transpose(b, [1, 0]) : b, false, false),
    },
  ];
}

/**
 * Winograd's minimal filtering F(m×m, 3×3) as candidates of a 3×3 convolution
 * at unit steps: y = Aᵀ[(G w Gᵀ) ⊙ (Bᵀ x B)]A, tile by tile. The four tile
 * transforms are native/winograd.cc's ops; the products in the transformed
 * domain are TensorFlow's batched matrix products, a·a of them (a = m + 2),
 * each [tiles, C] × [C, K]. Every pass has a fused candidate too ("-fused"):
 * one native op that transforms, multiplies and transforms back a block of
 * tiles at a time, so the transformed tensors stay in the cache.
 * F(2×2, 3×3) multiplies 2.25 times less than the direct convolution,
 * F(4×4, 3×3) 4 times less (docs/PERFORMANCE.md).
 */
import { createRequire } from "node:module";
import type { Tensor } from "@tensorflow/tfjs-node";
import { addon } from "../../core/addons";
import { tf } from "../../core/backend";
import { constant, intVector } from "../binding";
import type { Candidate } from "../tuner";
import type { Conv, ConvRelu, FilterGrad, InputGrad } from "./conv";
import type { OpContext } from "./context";
import { unitSteps, type ConvGeometry } from "./geometry";

// The filter transforms, for the points native/winograd.cc's Bᵀ and Aᵀ are built on.
const G: Record<Tile, number[][]> = {
  2: [
    [1, 0, 0],
    [1 / 2, 1 / 2, 1 / 2],
    [1 / 2, -1 / 2, 1 / 2],
    [0, 0, 1],
  ],
  4: [
    [1, 0, 0],
    [-1 / 3, -1 / 3, -1 / 3],
    [1 / 3, -1 / 3, 1 / 3],
    [1 / 15, 2 / 15, 4 / 15],
    [-16 / 15, 8 / 15, -4 / 15],
    [0, 0, 1],
  ],
};

type Tile = 2 | 4;

let loaded: string | null | undefined;

/** Null once native/winograd.cc's ops are registered with TensorFlow, else why they are not. */
export function winogradProblem(): string | null {
  if (loaded === undefined) {
    try {
      const { built } = addon("winograd");
      loaded = (createRequire(__filename)(built) as { error: string }).error || null;
    } catch (error) {
      const { code } = error as { code?: string };
      loaded =
        code === "MODULE_NOT_FOUND"
          ? "native/winograd.cc is not compiled for its present source: run `npm run setup`"
          : (error as Error).message.split("\n")[0]!;
    }
  }
  return loaded;
}

/** Whether a convolution by a kernel of this height and width has Winograd candidates. */
export const winogradFits = ([kh, kw]: number[], g: ConvGeometry) => kh === 3 && kw === 3 && unitSteps(g);

export interface WinogradCandidates {
  conv2d: Candidate<Conv>[];
  conv2dRelu: Candidate<ConvRelu>[];
  conv2dFilterGrad: Candidate<FilterGrad>[];
  conv2dInputGrad: Candidate<InputGrad>[];
}

/**
 * dy's transform, made by the input's gradient and handed to the filter's (the stages compute them in that order,
 * from the same dy) when both kernels have the same tile; the filter's gradient frees it once used, so that in a step
 * run op by op it is not held until the step ends (a step run as one function frees it on its own).
 */
const pendingOutputGrads = new WeakMap<Tensor, Map<Tile, Tensor>>();

function handOn(dy: Tensor, m: Tile, dm: Tensor): Tensor {
  let byTile = pendingOutputGrads.get(dy);
  if (byTile === undefined) pendingOutputGrads.set(dy, (byTile = new Map()));
  byTile.set(m, dm);
  return dm;
}

function takeOn(dy: Tensor, m: Tile): Tensor | null {
  const dm = pendingOutputGrads.get(dy)?.get(m);
  pendingOutputGrads.get(dy)?.delete(m);
  return dm === undefined || dm.isDisposed ? null : dm;
}

export const NO_WINOGRAD: WinogradCandidates = {
  conv2d: [],
  conv2dRelu: [],
  conv2dFilterGrad: [],
  conv2dInputGrad: [],
};

/** The Winograd candidates of each pass, none where native/winograd.cc's ops are missing. */
export function winogradCandidates(c: OpContext): WinogradCandidates {
  if (winogradProblem() !== null) return NO_WINOGRAD;
  const { run } = c;
  const { float: T, int, bool, type, oneDNN: mkl } = c.attrs;
  const tshape = type("Tshape", c.backend.binding.TF_INT32);
  const reshape = (x: Tensor, shape: number[]) => run("Reshape", [T, tshape], [x, intVector(shape)]);
  const oneDNNProduct = c.hasOneDNN("_MklBatchMatMulV2", [T, bool("adj_x", false), bool("adj_y", false), mkl], () => [
    tf.zeros([1, 1, 1]),
    tf.zeros([1, 1, 1]),
  ]);
  /** a·a matrix products at once, either side transposed. */
  const products = (x: Tensor, y: Tensor, adjX: boolean, adjY: boolean) =>
    oneDNNProduct
      ? run("_MklBatchMatMulV2", [T, bool("adj_x", adjX), bool("adj_y", adjY), mkl], [x, y])
      : run("BatchMatMulV2", [T, bool("adj_x", adjX), bool("adj_y", adjY)], [x, y]);
  const matMul = (x: Tensor, y: Tensor, transposeA: boolean) =>
    run("MatMul", [T, bool("transpose_a", transposeA), bool("transpose_b", false)], [x, y]);

  /** G⊗G: the filter transform as one [a·a, 9] matrix over the filter's nine taps. */
  const filterMatrix = (m: Tile) =>
    constant(`winograd G⊗G ${m}`, () =>
      tf.tensor2d(G[m].flatMap((r) => G[m].map((s) => r.flatMap((x) => s.map((y) => x * y))))),
    );
  /** dw = Gᵀ du[·, c, k] G from the transformed domain's du [a·a, C, K]: the adjoint of `filter`. */
  const filterGradFrom = (m: Tile, du: Tensor, shape: number[]) => {
    const [, , C, K] = shape;
    return reshape(matMul(filterMatrix(m), reshape(du, [(m + 2) ** 2, C! * K!]), true), shape);
  };
  /** The bias given, or zeros for a convolution without one. */
  const biasOf = (b: Tensor | null, w: Tensor) => {
    const k = w.shape[3]!;
    return b ?? constant(`zeros ${k}`, () => tf.zeros([k]));
  };
  /** U[ξ, c, k] = (G w[·, ·, c, k] Gᵀ)[ξ]. */
  const filter = (m: Tile, w: Tensor) => {
    const [, , C, K] = w.shape as number[];
    return reshape(matMul(filterMatrix(m), reshape(w, [9, C! * K!]), false), [(m + 2) ** 2, C!, K!]);
  };

  /** The convolution's output rows and columns, and the input's rows and columns padded before the first tile. */
  const sizes = ([, h, w]: number[], g: ConvGeometry) => {
    const pad = g.padding === "same" ? 1 : 0;
    return { pad, outH: h! + 2 * pad - 2, outW: w! + 2 * pad - 2 };
  };
  /** Where the tiles lie: the output's size, and the input's rows and columns before the first tile. */
  const layout = (m: Tile, shape: number[], g: ConvGeometry) => {
    const { pad, outH, outW } = sizes(shape, g);
    return [int("tile", m), int("pad_top", pad), int("pad_left", pad), int("out_h", outH), int("out_w", outW)];
  };
  const input = (m: Tile, x: Tensor, g: ConvGeometry) => run("DeepConvWinogradInput", layout(m, x.shape, g), [x]);
  const outputGrad = (m: Tile, dy: Tensor) => run("DeepConvWinogradOutputGrad", [int("tile", m)], [dy]);
  const output = (m: Tile, x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry, relu: boolean) => {
    const { outH, outW } = sizes(x.shape, g);
    // the transformed input and products are freed at once, also in a step run op by op
    return tf.tidy(() =>
      run(
        "DeepConvWinogradOutput",
        [int("tile", m), int("out_h", outH), int("out_w", outW), int("batch", x.shape[0]!), bool("relu", relu)],
        [products(input(m, x, g), filter(m, w), false, false), biasOf(b, w)],
      ),
    );
  };

  /** The forward pass fused: transforms and products in one op, a block of tiles at a time. */
  const fused = (m: Tile, x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry, relu: boolean) =>
    tf.tidy(() =>
      run("DeepConvWinogradConv", [...layout(m, x.shape, g), bool("relu", relu)], [x, filter(m, w), biasOf(b, w)]),
    );

  /** The input's gradient fused, with the transformed filter transposed per point: [a·a, K, C]. */
  const fusedInputGrad = (m: Tile, shape: number[], w: Tensor, dy: Tensor, g: ConvGeometry) => {
    const [, h, wd] = shape;
    const { pad } = sizes(shape, g);
    const attrs = [int("tile", m), int("pad_top", pad), int("pad_left", pad), int("in_h", h!), int("in_w", wd!)];
    return tf.tidy(() => run("DeepConvWinogradConvInputGrad", attrs, [dy, c.transpose(filter(m, w), [0, 2, 1])]));
  };

  /** The filter's gradient fused: its products summed over the tiles natively, then Gᵀ du G. */
  const fusedFilterGrad = (m: Tile, x: Tensor, shape: number[], dy: Tensor, g: ConvGeometry) => {
    const { pad } = sizes(x.shape, g);
    takeOn(dy, m)?.dispose(); // an unfused input's gradient handed dy's transform on: not needed here
    return tf.tidy(() => {
      const du = run(
        "DeepConvWinogradConvFilterGrad",
        [int("tile", m), int("pad_top", pad), int("pad_left", pad)],
        [x, dy],
      );
      return filterGradFrom(m, du, shape);
    });
  };

  /** The input's gradient with its transforms apart; dy's transform is handed on to the filter's gradient. */
  const inputGrad = (m: Tile, shape: number[], w: Tensor, dy: Tensor, g: ConvGeometry) => {
    const [n, h, wd] = shape;
    const dm = handOn(dy, m, outputGrad(m, dy));
    return tf.tidy(() =>
      run(
        "DeepConvWinogradInputGrad",
        [...layout(m, shape, g), int("in_h", h!), int("in_w", wd!), int("batch", n!)],
        [products(dm, filter(m, w), false, true)],
      ),
    );
  };

  /** The filter's gradient with its transforms apart, on dy's transform from the input's gradient if it made one. */
  const filterGrad = (m: Tile, x: Tensor, shape: number[], dy: Tensor, g: ConvGeometry) => {
    const dm = takeOn(dy, m) ?? outputGrad(m, dy);
    const dw = tf.tidy(() => filterGradFrom(m, products(input(m, x, g), dm, true, false), shape));
    dm.dispose();
    return dw;
  };

  /**
   * Timed alone, an unfused pass finds its transformed tensors (tens of MB) in cache; inside a step it does not. On
   * the seed's filter gradient (AVX-512) it was 6 % faster alone and 5 % slower in the step (docs/PERFORMANCE.md).
   */
  const margin = 0.15;
  /** Each tile's candidates: its transforms apart (with that margin), then fused. */
  const both = <I>(apart: (m: Tile) => I, fusedPass: (m: Tile) => I): Candidate<I>[] =>
    ([2, 4] as Tile[]).flatMap((m) => [
      { name: `winograd${m}`, oneDNN: false, margin, impl: apart(m) },
      { name: `winograd${m}-fused`, oneDNN: false, impl: fusedPass(m) },
    ]);
  return {
    conv2d: both<Conv>(
      (m) => (x, w, b, g) => output(m, x, w, b, g, false),
      (m) => (x, w, b, g) => fused(m, x, w, b, g, false),
    ),
    conv2dRelu: both<ConvRelu>(
      (m) => (x, w, b, g) => output(m, x, w, b, g, true),
      (m) => (x, w, b, g) => fused(m, x, w, b, g, true),
    ),
    conv2dInputGrad: both<InputGrad>(
      (m) => (shape, w, dy, g) => inputGrad(m, shape, w, dy, g),
      (m) => (shape, w, dy, g) => fusedInputGrad(m, shape, w, dy, g),
    ),
    conv2dFilterGrad: both<FilterGrad>(
      (m) => (x, shape, dy, g) => filterGrad(m, x, shape, dy, g),
      (m) => (x, shape, dy, g) => fusedFilterGrad(m, x, shape, dy, g),
    ),
  };
}

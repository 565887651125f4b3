/**
 * Seeded random numbers for dropout, from TensorFlow's stateless Philox
 * generator: a mask depends only on its seed, and TensorFlow draws it far
 * faster than a JavaScript generator (docs/PERFORMANCE.md). Outside
 * TensorFlow, tfjs's own seeded generator stands in.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { attributes, constant, floatScalar, intVector, native, type NativeBackend } from "./binding";
import { stepInput } from "./compiled";

/**
 * Two int32 words, or what draws them afresh at each call (a dropout layer's
 * next mask seed): a step run as one TensorFlow function (compiled.ts) draws
 * it for every call.
 */
export type Seed = [number, number] | (() => [number, number]);

/**
 * The seeds of a layer's random draws, one per training call: call n draws
 * from (seed, n), so runs repeat exactly and draws still differ from call to
 * call; without a seed, random ones.
 */
export class SeedSequence {
  private calls = 0;

  constructor(readonly seed: number | undefined) {}

  next(): [number, number] {
    const random = () => Math.floor(Math.random() * 2 ** 31);
    return this.seed === undefined ? [random(), random()] : [this.seed, this.calls++];
  }
}

const draw = (seed: Seed): [number, number] => (typeof seed === "function" ? seed() : seed);

function withSeed(seed: Seed, f: (seed: Tensor) => Tensor): Tensor {
  const seedTensor = stepInput(() => tf.tensor1d(draw(seed), "int32"));
  try {
    return f(seedTensor);
  } finally {
    seedTensor.dispose();
  }
}

/** Uniform [0, 1) floats that depend only on `shape` and `seed` (two int32 words). */
export function statelessUniform(shape: number[], seed: Seed): Tensor {
  const backend = native();
  if (backend === null) {
    const [a, b] = draw(seed);
    return tf.randomUniform(shape, 0, 1, "float32", a * 1_000_003 + b);
  }
  const { type } = attributes(backend);
  const { TF_FLOAT, TF_INT32 } = backend.binding;
  return withSeed(seed, (seedTensor) =>
    backend.executeSingleOutput(
      "StatelessRandomUniform",
      [type("dtype", TF_FLOAT), type("T", TF_INT32), type("Tseed", TF_INT32)],
      [intVector(shape), seedTensor],
    ),
  );
}

/**
 * Random bytes, one per element of `shape`, that depend only on `seed`, compared
 * with `threshold`: true where byte ≥ threshold. Philox's 32-bit words are the
 * cost of random numbers here, so four bytes per word make a mask in about a
 * quarter of the time of one float per unit.
 */
function randomBytesAtLeast(backend: NativeBackend, shape: number[], seed: Seed, threshold: number): Tensor {
  const { type, bool } = attributes(backend);
  const { TF_INT32, TF_UINT8 } = backend.binding;
  const count = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => {
    const words = withSeed(seed, (seedTensor) =>
      backend.executeSingleOutput(
        "StatelessRandomUniformFullInt",
        [type("dtype", TF_INT32), type("T", TF_INT32), type("Tseed", TF_INT32)],
        [intVector([Math.ceil(count / 4)]), seedTensor],
      ),
    );
    const reshape = (t: Tensor, to: number[]) =>
      backend.executeSingleOutput("Reshape", [type("T", TF_UINT8), type("Tshape", TF_INT32)], [t, intVector(to)]);
    let bytes = backend.executeSingleOutput("Bitcast", [type("T", TF_INT32), type("type", TF_UINT8)], [words]);
    if (count % 4 !== 0) {
      bytes = backend.executeSingleOutput(
        "Slice",
        [type("T", TF_UINT8), type("Index", TF_INT32)],
        [reshape(bytes, [-1]), intVector([0]), intVector([count])],
      );
    }
    const bound = constant(`uint8 ${threshold}`, () =>
      backend.executeSingleOutput(
        "Cast",
        [type("SrcT", TF_INT32), type("DstT", TF_UINT8), bool("Truncate", false)],
        [tf.scalar(threshold, "int32")],
      ),
    );
    return backend.executeSingleOutput("GreaterEqual", [type("T", TF_UINT8)], [reshape(bytes, shape), bound]);
  });
}

/**
 * Which units dropout keeps (true with probability 1 − rate), drawn from `seed`.
 * A rate that is a whole number of 256ths (0.25, 0.5, 0.125, …) is met exactly
 * by one random byte per unit; any other rate compares a uniform float with
 * it, as Keras does.
 */
export function keepMask(shape: number[], rate: number, seed: Seed): Tensor {
  const backend = native();
  const threshold = rate * 256;
  if (backend !== null && Number.isInteger(threshold) && threshold <= 255)
    return randomBytesAtLeast(backend, shape, seed, threshold);
  return tf.tidy(() => tf.greaterEqual(statelessUniform(shape, seed), rate));
}

/** Inverted dropout's multiplier: 1/(1−rate) for the units `keepMask` keeps, 0 for the others. */
export function dropoutMask(shape: number[], rate: number, seed: Seed): Tensor {
  const backend = native();
  const scale = 1 / (1 - rate);
  return tf.tidy(() => {
    const keep = keepMask(shape, rate, seed);
    // SelectV2 makes it in one pass, broadcasting its scalars (tfjs's where would tile them first).
    if (backend === null) return tf.mul(tf.cast(keep, "float32"), scale);
    return backend.executeSingleOutput(
      "SelectV2",
      [attributes(backend).float],
      [keep, floatScalar(scale), floatScalar(0)],
    );
  });
}

/**
 * Inverted dropout with a mask drawn from `seed` (of `maskShape`, broadcast over x): kept units are scaled by
 * 1/(1−rate).
 */
export function dropout(x: Tensor, rate: number, seed: Seed, maskShape: number[] = x.shape): Tensor {
  return tf.tidy(() => tf.mul(x, dropoutMask(maskShape, rate, seed)));
}

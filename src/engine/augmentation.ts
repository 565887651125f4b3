/**
 * Image augmentation on TensorFlow's own ops, as Keras 3's random image
 * layers compute it: one affine transform per image through
 * ImageProjectiveTransformV3 (rotation, shift, shear, zoom and a horizontal
 * flip folded into one matrix), flips by reversing an axis, contrast about
 * each image's per-channel mean. Every op goes through the backend, so a step
 * that augments its batch still runs as one TensorFlow function
 * (compiled.ts); its random draws come from seeds made per call (random.ts).
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { attributes, floatScalar, intVector, native } from "./binding";
import { statelessUniform, type Seed } from "./random";

export type FillMode = "reflect" | "wrap" | "constant" | "nearest";
export type Interpolation = "bilinear" | "nearest";
export const FILL_MODES: readonly FillMode[] = ["reflect", "wrap", "constant", "nearest"];
export const INTERPOLATIONS: readonly Interpolation[] = ["bilinear", "nearest"];

/** How a transform reads the input: between pixels, and outside the image. */
export interface Sampling {
  interpolation: Interpolation;
  fillMode: FillMode;
  /** The value outside the image with fillMode "constant". */
  fillValue: number;
}

/**
 * One affine map per image, each parameter a [n] tensor or left out (its
 * identity). The map takes an output pixel p to the input point
 * A·(p − c) + c + R·shift, with c the image's centre and
 * A = R(angle)·Shear(shear)·diag(zoomX, zoomY)·diag(flipX, flipY): the composition
 * of Keras's ImageDataGenerator, and of each random layer alone.
 * Angles in radians; zoom above 1 shows more of the image (zooms out);
 * shift in pixels, of the input point; flipX −1 mirrors left and right,
 * flipY −1 top and bottom.
 */
export interface Affine {
  angle?: Tensor;
  shear?: Tensor;
  zoomX?: Tensor;
  zoomY?: Tensor;
  shiftX?: Tensor;
  shiftY?: Tensor;
  flipX?: Tensor;
  flipY?: Tensor;
}

/**
 * The [n, 8] rows ImageProjectiveTransformV3 takes (a0 a1 a2 b0 b1 b2 0 0, x across, y down) for images of
 * `height`×`width`.
 */
function affineRows(n: number, height: number, width: number, p: Affine): Tensor {
  return tf.tidy(() => {
    const zero = tf.zeros([n]);
    const one = tf.ones([n]);
    const angle = p.angle ?? zero;
    const turned = p.shear === undefined ? angle : tf.add(angle, p.shear);
    const [cos, sin] = [tf.cos(angle), tf.sin(angle)];
    const zoomX = p.flipX === undefined ? (p.zoomX ?? one) : tf.mul(p.zoomX ?? one, p.flipX);
    const zoomY = p.flipY === undefined ? (p.zoomY ?? one) : tf.mul(p.zoomY ?? one, p.flipY);
    const a0 = tf.mul(zoomX, cos);
    const a1 = tf.neg(tf.mul(zoomY, tf.sin(turned)));
    const b0 = tf.mul(zoomX, sin);
    const b1 = tf.mul(zoomY, tf.cos(turned));
    const [cx, cy] = [(width - 1) / 2, (height - 1) / 2];
    const [tx, ty] = [p.shiftX ?? zero, p.shiftY ?? zero];
    // c + R·shift − A·c
    const a2 = tf.addN([tf.sub(tf.mul(cos, tx), tf.mul(sin, ty)), tf.mul(a0, -cx), tf.mul(a1, -cy), tf.fill([n], cx)]);
    const b2 = tf.addN([tf.add(tf.mul(sin, tx), tf.mul(cos, ty)), tf.mul(b0, -cx), tf.mul(b1, -cy), tf.fill([n], cy)]);
    return tf.stack([a0, a1, a2, b0, b1, b2, zero, zero], 1);
  });
}

/** Each image of NHWC `x` resampled through its row of `rows` ([n, 8], output pixel to input point). */
function transformImages(x: Tensor, rows: Tensor, sampling: Sampling): Tensor {
  const backend = native();
  if (backend === null) {
    // tfjs's own Transform kernel reads only the first image of a batch correctly (4.22): one image at a time.
    const images = tf.split(x, x.shape[0]!, 0);
    const each = tf.split(rows, x.shape[0]!, 0);
    return tf.concat(
      images.map((image, i) =>
        tf.image.transform(
          image as never,
          each[i] as never,
          sampling.interpolation,
          sampling.fillMode,
          sampling.fillValue,
        ),
      ),
      0,
    );
  }
  const { type, string } = attributes(backend);
  return backend.executeSingleOutput(
    "ImageProjectiveTransformV3",
    [
      type("dtype", backend.binding.TF_FLOAT),
      string("interpolation", sampling.interpolation.toUpperCase()),
      string("fill_mode", sampling.fillMode.toUpperCase()),
    ],
    [x, rows, intVector([x.shape[1]!, x.shape[2]!]), floatScalar(sampling.fillValue)],
  );
}

/** Each image of NHWC `x` through its own affine map (`affine`'s parameters per image). */
export function affineTransform(x: Tensor, affine: Affine, sampling: Sampling): Tensor {
  return tf.tidy(() => transformImages(x, affineRows(x.shape[0]!, x.shape[1]!, x.shape[2]!, affine), sampling));
}

/** x with the images where `flips` ([n], bool) is true reversed along `axes` (1: upside down, 2: left to right). */
export function flipImages(x: Tensor, flips: Tensor, axes: number[]): Tensor {
  return tf.tidy(() => {
    const flipped = tf.reverse(x, axes);
    const where = tf.reshape(flips, [x.shape[0]!, 1, 1, 1]);
    const backend = native();
    // SelectV2 broadcasts the per-image choice; tfjs's where would tile it first.
    if (backend === null) return tf.where(tf.broadcastTo(where, x.shape), flipped, x);
    return backend.executeSingleOutput("SelectV2", [attributes(backend).float], [where, flipped, x]);
  });
}

/** Keras's contrast adjustment: (x − mean)·factor + mean per image and channel, clipped to `valueRange`. */
export function adjustContrast(x: Tensor, factors: Tensor, valueRange: [number, number]): Tensor {
  return tf.tidy(() => {
    const mean = tf.mean(x, [1, 2], true);
    const adjusted = tf.add(tf.mul(tf.sub(x, mean), tf.reshape(factors, [x.shape[0]!, 1, 1, 1])), mean);
    return tf.clipByValue(adjusted, valueRange[0], valueRange[1]);
  });
}

/** `count` uniform draws per image from [low, high) for a batch of n, one [n] tensor each, all from one `seed`. */
export function uniformDraws(n: number, ranges: Array<[low: number, high: number]>, seed: Seed): Tensor[] {
  return tf.tidy(() => {
    const u = statelessUniform([ranges.length, n], seed);
    return tf.unstack(u, 0).map((row, i) => {
      const [low, high] = ranges[i]!;
      return tf.add(tf.mul(row, high - low), low);
    });
  });
}

/** The ranges of ImageDataGenerator's draws, per image: degrees, pixels, zoom factors; flips with probability 1/2. */
export interface AffineRanges {
  degrees: [number, number];
  shearDegrees: [number, number];
  shiftX: [number, number];
  shiftY: [number, number];
  zoomX: [number, number];
  zoomY: [number, number];
  flipX: boolean;
  flipY: boolean;
}

/** Each image of `x` under its own random affine map (Keras's ImageDataGenerator), all draws from one `seed`. */
export function randomAffine(x: Tensor, r: AffineRanges, seed: Seed, sampling: Sampling): Tensor {
  return tf.tidy(() => {
    const n = x.shape[0]!;
    const [degrees, shear, shiftX, shiftY, zoomX, zoomY, coinX, coinY] = uniformDraws(
      n,
      [r.degrees, r.shearDegrees, r.shiftX, r.shiftY, r.zoomX, r.zoomY, [0, 1], [0, 1]],
      seed,
    ) as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
    const sign = (coin: Tensor) => tf.sub(1, tf.mul(tf.cast(tf.less(coin, 0.5), "float32"), 2));
    const radians = (t: Tensor) => tf.mul(t, Math.PI / 180);
    const affine = {
      angle: radians(degrees),
      shear: radians(shear),
      shiftX,
      shiftY,
      zoomX,
      zoomY,
      flipX: r.flipX ? sign(coinX) : undefined,
      flipY: r.flipY ? sign(coinY) : undefined,
    };
    return affineTransform(x, affine, sampling);
  });
}

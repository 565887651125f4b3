/**
 * Keras's ImageDataGenerator, the seed's own import: random rotations,
 * shifts, shears, zooms and flips of the training images, drawn afresh for
 * every batch, with Keras's argument names and meanings:
 *
 *   const datagen = imageDataGenerator({ rotationRange: 10, widthShiftRange: 0.1, zoomRange: 0.1 });
 *   const flow = datagen.flow(data.xTrain, data.yTrain, { batchSize: 128, seed: 42 });
 *   await model.fit(flow, { epochs: 6, validationData: [xVal, yVal] });
 *
 * Each image's transform is one affine map on TensorFlow's own op, inside
 * the training step (engine's randomAffine), so training with a generator
 * stays on the fast path and runs as one TensorFlow function.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import { FILL_MODES, randomAffine, SeedSequence, type AffineRanges, type FillMode } from "../engine";

export interface ImageDataGeneratorArgs {
  /** Degrees: each image turns by up to ± this much. */
  rotationRange?: number;
  /** Below 1, a fraction of the width; 1 or more, pixels: each image shifts left or right by up to this much. */
  widthShiftRange?: number;
  /** Below 1, a fraction of the height; 1 or more, pixels. */
  heightShiftRange?: number;
  /** Degrees of shear, counter-clockwise: up to ± this much. */
  shearRange?: number;
  /** z zooms each axis by a factor from [1 − z, 1 + z] (above 1 zooms out); [lower, upper] for another range. */
  zoomRange?: number | [number, number];
  /** Mirror left and right, half the images. */
  horizontalFlip?: boolean;
  /** Mirror top and bottom, half the images. */
  verticalFlip?: boolean;
  /** What lies outside the image: "nearest" (Keras's default here), "constant", "reflect" or "wrap". */
  fillMode?: FillMode;
  /** The value outside the image with fillMode "constant" (0). */
  cval?: number;
  /** Multiplies the images after the transform, e.g. 1 / 255 for raw pixel values. */
  rescale?: number;
}

export interface FlowArgs {
  /** Images per batch (Keras: 32). */
  batchSize?: number;
  /** Reshuffle the images before each epoch (true). */
  shuffle?: boolean;
  /** Seeds the shuffling and the transforms: the same seed gives the same batches. */
  seed?: number;
}

const KNOWN = [
  "rotationRange",
  "widthShiftRange",
  "heightShiftRange",
  "shearRange",
  "zoomRange",
  "horizontalFlip",
  "verticalFlip",
  "fillMode",
  "cval",
  "rescale",
];
const EXAMPLE =
  "e.g. imageDataGenerator({ rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: 0.1 })";

/**
 * Training data with its augmentation, as Keras's `datagen.flow(x, y)` gives it: `model.fit` takes it in place of x and
 * y.
 */
export class ImageFlow {
  /** The batch augmented as in a training step, fresh draws each call. */
  readonly augment: (x: Tensor) => Tensor;

  constructor(
    readonly x: Tensor,
    readonly y: Tensor,
    readonly batchSize: number,
    readonly shuffle: boolean,
    readonly seed: number | undefined,
    transform: (x: Tensor, seeds: SeedSequence) => Tensor,
  ) {
    const seeds = new SeedSequence(seed);
    this.augment = (batch) => transform(batch, seeds);
  }
}

export class ImageDataGenerator {
  private readonly ranges: (height: number, width: number) => AffineRanges;
  private readonly fillMode: FillMode;
  private readonly cval: number;
  private readonly rescale: number | null;

  constructor(args: ImageDataGeneratorArgs = {}) {
    const unknown = Object.keys(args).filter((k) => !KNOWN.includes(k));
    if (unknown.length > 0) {
      throw new UserError(
        `imageDataGenerator: ${unknown.map((k) => JSON.stringify(k)).join(", ")} ` +
          `${unknown.length === 1 ? "is" : "are"} not an argument it takes here; it takes ${KNOWN.join(", ")}, ` +
          `${EXAMPLE}.`,
      );
    }
    const amount = (
      name: keyof ImageDataGeneratorArgs,
      value: unknown,
      rule: string,
      ok: (v: number) => boolean,
    ): number => {
      if (value === undefined) return 0;
      if (typeof value !== "number" || !Number.isFinite(value) || !ok(value))
        throw new UserError(`imageDataGenerator: ${name} must be ${rule}, ${EXAMPLE}; got ${JSON.stringify(value)}.`);
      return value;
    };
    const rotation = amount(
      "rotationRange",
      args.rotationRange,
      "a number of degrees from 0 to 180",
      (v) => v >= 0 && v <= 180,
    );
    const shear = amount("shearRange", args.shearRange, "a number of degrees from 0 to 90", (v) => v >= 0 && v < 90);
    const widthShift = amount(
      "widthShiftRange",
      args.widthShiftRange,
      "0 or more (below 1 a fraction of the width, else pixels)",
      (v) => v >= 0,
    );
    const heightShift = amount(
      "heightShiftRange",
      args.heightShiftRange,
      "0 or more (below 1 a fraction of the height, else pixels)",
      (v) => v >= 0,
    );
    const zoom = zoomRange(args.zoomRange);
    for (const flag of ["horizontalFlip", "verticalFlip"] as const) {
      if (args[flag] !== undefined && typeof args[flag] !== "boolean")
        throw new UserError(`imageDataGenerator: ${flag} must be true or false; got ${JSON.stringify(args[flag])}.`);
    }
    this.fillMode = args.fillMode ?? "nearest";
    if (!FILL_MODES.includes(this.fillMode)) {
      throw new UserError(
        `imageDataGenerator: fillMode must be one of ${FILL_MODES.map((m) => `"${m}"`).join(", ")}, e.g. fillMode: ` +
          `"nearest"; got ${JSON.stringify(args.fillMode)}.`,
      );
    }
    this.cval = amount("cval", args.cval, "a number", () => true);
    this.rescale =
      args.rescale === undefined
        ? null
        : amount("rescale", args.rescale, "a number, e.g. rescale: 1 / 255", () => true);
    // Keras's rule: a shift below 1 is a fraction of the side, else pixels.
    const pixels = (range: number, side: number) => (range < 1 ? range * side : range);
    this.ranges = (height, width) => ({
      degrees: [-rotation, rotation],
      shearDegrees: [-shear, shear],
      shiftX: [-pixels(widthShift, width), pixels(widthShift, width)],
      shiftY: [-pixels(heightShift, height), pixels(heightShift, height)],
      zoomX: zoom,
      zoomY: zoom,
      flipX: args.horizontalFlip ?? false,
      flipY: args.verticalFlip ?? false,
    });
  }

  /** Keras's `datagen.flow(x, y, batch_size=…)`: hand it to `model.fit` in place of x and y. */
  flow(x: Tensor, y: Tensor, { batchSize = 32, shuffle = true, seed }: FlowArgs = {}): ImageFlow {
    if (!(x instanceof tf.Tensor) || x.rank !== 4) {
      throw new UserError(
        `datagen.flow: x must be a tensor of images [examples, height, width, channels], e.g. ` +
          `datagen.flow(data.xTrain, data.yTrain) after data.reshape([28, 28, 1]); got ` +
          `${x instanceof tf.Tensor ? `shape [${x.shape.join(", ")}]` : typeof x}.`,
      );
    }
    if (!(y instanceof tf.Tensor) || y.shape[0] !== x.shape[0]) {
      const got = y instanceof tf.Tensor ? `${y.shape[0]} labels` : typeof y;
      throw new UserError(
        `datagen.flow: y must hold one label per image of x (${x.shape[0]} images); got ${got}. Give both of one ` +
          `set, e.g. datagen.flow(data.xTrain, data.yTrain, { batchSize: 128 }).`,
      );
    }
    if (!Number.isInteger(batchSize) || batchSize <= 0)
      throw new UserError(
        `datagen.flow: batchSize must be a whole number greater than 0, e.g. { batchSize: 128 }; got ${batchSize}.`,
      );
    if (seed !== undefined && !Number.isSafeInteger(seed))
      throw new UserError(`datagen.flow: seed must be a whole number, e.g. { seed: 42 }; got ${seed}.`);
    return new ImageFlow(x, y, batchSize, shuffle, seed, (batch, seeds) => this.transform(batch, seeds));
  }

  /** The batch under random draws from `seeds`, then rescaled. */
  private transform(x: Tensor, seeds: SeedSequence): Tensor {
    return tf.tidy(() => {
      const moved = randomAffine(x, this.ranges(x.shape[1]!, x.shape[2]!), () => seeds.next(), {
        interpolation: "bilinear",
        fillMode: this.fillMode,
        fillValue: this.cval,
      });
      return this.rescale === null ? moved : tf.mul(moved, this.rescale);
    });
  }
}

function zoomRange(value: unknown): [number, number] {
  const fail = () =>
    new UserError(
      `imageDataGenerator: zoomRange must be a number from 0 up to, not including, 1 (zooms from 1 − z to 1 + z), or ` +
        `[lower, upper] with 0 < lower ≤ upper, ${EXAMPLE}; got ${JSON.stringify(value)}.`,
    );
  if (value === undefined) return [1, 1];
  if (Array.isArray(value)) {
    const [low, high] = value as unknown[];
    if (
      value.length !== 2 ||
      typeof low !== "number" ||
      typeof high !== "number" ||
      !(low > 0 && low <= high && Number.isFinite(high))
    )
      throw fail();
    return [low, high];
  }
  if (typeof value !== "number" || !(value >= 0 && value < 1)) throw fail();
  return [1 - value, 1 + value];
}

/** Keras's `ImageDataGenerator(...)`: random transforms of the training images, for `model.fit(datagen.flow(x, y))`. */
export function imageDataGenerator(args: ImageDataGeneratorArgs = {}): ImageDataGenerator {
  return new ImageDataGenerator(args);
}

/**
 * Keras 3's random image layers as tfjs-layers layers (kerasLayers'
 * `layers.randomRotation` and the rest): Keras's arguments under tfjs's
 * camelCase names, Keras's defaults, and Keras's arithmetic
 * (augmentation.ts). They change images in training only; in inference they
 * pass them through. Each call's draws follow the layer's seed (call n from
 * (seed, n)), so runs repeat exactly. Each layer splits into `draw` (the
 * random parameters for a batch) and `transform` (the batch under given
 * parameters, as Keras's `transform_images` takes a transformation), which
 * is how tests compare them with Keras.
 */
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import type { Shape, Tensor, serialization } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import {
  adjustContrast,
  affineTransform,
  FILL_MODES,
  flipImages,
  INTERPOLATIONS,
  uniformDraws,
  type FillMode,
  type Interpolation,
  type Sampling,
} from "./augmentation";
import { SeedSequence } from "./random";

/** A factor: one number f (the range [−f, f], or as the layer says) or [lower, upper]. */
export type Factor = number | [number, number];

/** What every random layer takes besides its own arguments. */
export interface RandomLayerArgs {
  seed?: number | null;
  name?: string;
  inputShape?: Shape;
  batchInputShape?: Shape;
}

interface SamplingArgs {
  /** "reflect" (Keras's default), "wrap", "constant" or "nearest": what lies outside the image. */
  fillMode?: FillMode;
  /** "bilinear" (default) or "nearest". */
  interpolation?: Interpolation;
  /** The value outside the image with fillMode "constant" (0). */
  fillValue?: number;
}

export interface RandomRotationArgs extends RandomLayerArgs, SamplingArgs {
  /** A fraction of a full turn: 0.05 rotates by up to ±18°; [lower, upper] for another range. */
  factor: Factor;
}
export interface RandomTranslationArgs extends RandomLayerArgs, SamplingArgs {
  /** A fraction of the height: 0.1 shifts up or down by up to 10 %. */
  heightFactor: Factor;
  /** A fraction of the width. */
  widthFactor: Factor;
}
export interface RandomZoomArgs extends RandomLayerArgs, SamplingArgs {
  /** 0.1 zooms by up to 10 % in or out (positive: out); [lower, upper] for another range. */
  heightFactor: Factor;
  /** The width's own range; without it, width zooms as height does. */
  widthFactor?: Factor | null;
}
export type FlipMode = "horizontal" | "vertical" | "horizontal_and_vertical";
export interface RandomFlipArgs extends RandomLayerArgs {
  /** "horizontal", "vertical" or "horizontal_and_vertical" (default; both flips or neither, as Keras draws them). */
  mode?: FlipMode;
}
export interface RandomContrastArgs extends RandomLayerArgs {
  /**
   * The contrast factor's range: f draws from [1 − lower, 1 + upper]; Keras 3 reads one number f as lower 0, upper f.
   */
  factor: Factor;
  /** The images' range, which the output is clipped to: Keras's default [0, 255]; [0, 1] for images scaled to 1. */
  valueRange?: [number, number];
}

const example = (call: string, args: string) => `e.g. layers.${call}({ ${args} })`;

/** [lower, upper] from a factor, each within [min, max], as Keras's `_set_factor`. */
function factorRange(
  call: string,
  name: string,
  factor: unknown,
  [min, max]: [number, number],
  eg: string,
  single = (f: number): [number, number] => [-Math.abs(f), Math.abs(f)],
): [number, number] {
  const inRange = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= min && v <= max;
  const fail = () =>
    new UserError(
      `layers.${call}: ${name} must be a number from ${min} to ${max}, or [lower, upper] within that range, ${eg}; ` +
        `got ${JSON.stringify(factor)}.`,
    );
  if (Array.isArray(factor)) {
    if (factor.length !== 2 || !factor.every(inRange)) throw fail();
    return [Math.min(factor[0]!, factor[1]!), Math.max(factor[0]!, factor[1]!)];
  }
  if (!inRange(factor)) throw fail();
  return single(factor);
}

function sampling(call: string, args: SamplingArgs, eg: string): Sampling {
  const { fillMode = "reflect", interpolation = "bilinear", fillValue = 0 } = args;
  if (!FILL_MODES.includes(fillMode))
    throw new UserError(
      `layers.${call}: fillMode must be one of ${FILL_MODES.map((m) => `"${m}"`).join(", ")}; got ` +
        `${JSON.stringify(fillMode)}, ${eg.replace(" })", ', fillMode: "nearest" })')}.`,
    );
  if (!INTERPOLATIONS.includes(interpolation))
    throw new UserError(
      `layers.${call}: interpolation must be "bilinear" or "nearest"; got ${JSON.stringify(interpolation)}.`,
    );
  if (typeof fillValue !== "number" || !Number.isFinite(fillValue))
    throw new UserError(
      `layers.${call}: fillValue must be a number, e.g. fillValue: 0; got ${JSON.stringify(fillValue)}.`,
    );
  return { fillMode, interpolation, fillValue };
}

/** The base of the random image layers: training calls draw and transform; other calls pass the images through. */
abstract class RandomImageLayer<P> extends tf.layers.Layer {
  protected readonly seeds: SeedSequence;

  /** `factory` names the layer as kerasLayers makes it ("randomRotation"), for error messages. */
  constructor(factory: string, args: RandomLayerArgs) {
    const { seed, name, inputShape, batchInputShape } = args;
    if (seed != null && !Number.isSafeInteger(seed))
      throw new UserError(`layers.${factory}: seed must be a whole number, e.g. seed: 42; got ${seed}.`);
    super({ name, inputShape, batchInputShape });
    this.seeds = new SeedSequence(seed ?? undefined);
  }

  /** Random parameters for a batch of `n` images of `height`×`width`, from the layer's next seed. */
  abstract draw(n: number, height: number, width: number): P;

  /** The batch under the given parameters. */
  abstract transform(x: Tensor, parameters: P): Tensor;

  /** The batch augmented as in a training step. */
  augment(x: Tensor): Tensor {
    if (x.rank !== 4)
      throw new UserError(
        `${this.name}: ${this.getClassName()} takes batches of images [batch, height, width, channels]; got shape ` +
          `[${x.shape.join(", ")}]. Reshape the data, e.g. data.reshape([28, 28, 1]).`,
      );
    return tf.tidy(() => this.transform(x, this.draw(x.shape[0]!, x.shape[1]!, x.shape[2]!)));
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return kwargs["training"] === true ? this.augment(x) : x.clone();
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  /** The layer's own arguments, as saved (its seed is added). */
  protected abstract ownConfig(): serialization.ConfigDict;

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), ...this.ownConfig(), seed: this.seeds.seed ?? null };
  }
}

const DEGREES = Math.PI / 180;

/** Keras's RandomRotation: each image turned by a random angle about its centre. */
export class RandomRotation extends RandomImageLayer<{ degrees: Tensor }> {
  static get className(): string {
    return "RandomRotation";
  }
  readonly factor: [number, number];
  readonly sampling: Sampling;

  constructor(args: RandomRotationArgs) {
    super("randomRotation", args);
    const eg = example("randomRotation", "factor: 0.05");
    this.factor = factorRange("randomRotation", "factor (a fraction of a full turn)", args.factor, [-1, 1], eg);
    this.sampling = sampling("randomRotation", args, eg);
  }

  draw(n: number) {
    const [degrees] = uniformDraws(n, [[this.factor[0] * 360, this.factor[1] * 360]], () => this.seeds.next());
    return { degrees: degrees! };
  }

  /** Rotated by `degrees` per image (counter-clockwise on screen for positive angles, as Keras). */
  transform(x: Tensor, { degrees }: { degrees: Tensor }): Tensor {
    return affineTransform(x, { angle: tf.mul(degrees, DEGREES) }, this.sampling);
  }

  protected ownConfig(): serialization.ConfigDict {
    return { factor: this.factor, ...this.sampling };
  }
}

/** Keras's RandomTranslation: each image shifted by a random fraction of its height and width. */
export class RandomTranslation extends RandomImageLayer<{ pixels: [Tensor, Tensor] }> {
  static get className(): string {
    return "RandomTranslation";
  }
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number];
  readonly sampling: Sampling;

  constructor(args: RandomTranslationArgs) {
    super("randomTranslation", args);
    const eg = example("randomTranslation", "heightFactor: 0.1, widthFactor: 0.1");
    this.heightFactor = factorRange(
      "randomTranslation",
      "heightFactor (a fraction of the height)",
      args.heightFactor,
      [-1, 1],
      eg,
    );
    this.widthFactor = factorRange(
      "randomTranslation",
      "widthFactor (a fraction of the width)",
      args.widthFactor,
      [-1, 1],
      eg,
    );
    this.sampling = sampling("randomTranslation", args, eg);
  }

  draw(n: number, height: number, width: number) {
    const [down, right] = uniformDraws(
      n,
      [
        [this.heightFactor[0] * height, this.heightFactor[1] * height],
        [this.widthFactor[0] * width, this.widthFactor[1] * width],
      ],
      () => this.seeds.next(),
    );
    return { pixels: [down!, right!] as [Tensor, Tensor] };
  }

  /** Shifted by `pixels` [down, right] per image (Keras's translations, height then width). */
  transform(x: Tensor, { pixels: [down, right] }: { pixels: [Tensor, Tensor] }): Tensor {
    return affineTransform(x, { shiftX: tf.neg(right), shiftY: tf.neg(down) }, this.sampling);
  }

  protected ownConfig(): serialization.ConfigDict {
    return { heightFactor: this.heightFactor, widthFactor: this.widthFactor, ...this.sampling };
  }
}

/** Keras's RandomZoom: each image zoomed about its centre, in (negative factor) or out (positive). */
export class RandomZoom extends RandomImageLayer<{ heightZoom: Tensor; widthZoom: Tensor }> {
  static get className(): string {
    return "RandomZoom";
  }
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number] | null;
  readonly sampling: Sampling;

  constructor(args: RandomZoomArgs) {
    super("randomZoom", args);
    const eg = example("randomZoom", "heightFactor: 0.1");
    // A factor of −1 would zoom into a single point: Keras refuses it too.
    const range = (name: string, f: unknown) => {
      const r = factorRange("randomZoom", name, f, [-1, 1], eg);
      if (r[0] <= -1)
        throw new UserError(
          `layers.randomZoom: ${name} must be above -1 (−1 zooms into a single point), ${eg}; got ` +
            `${JSON.stringify(f)}.`,
        );
      return r;
    };
    this.heightFactor = range("heightFactor", args.heightFactor);
    this.widthFactor = args.widthFactor == null ? null : range("widthFactor", args.widthFactor);
    this.sampling = sampling("randomZoom", args, eg);
  }

  draw(n: number) {
    const ranges: Array<[number, number]> = [[1 + this.heightFactor[0], 1 + this.heightFactor[1]]];
    if (this.widthFactor !== null) ranges.push([1 + this.widthFactor[0], 1 + this.widthFactor[1]]);
    const [heightZoom, widthZoom = heightZoom] = uniformDraws(n, ranges, () => this.seeds.next());
    return { heightZoom: heightZoom!, widthZoom: widthZoom! };
  }

  /** Zoomed by the given factors per image (Keras's height_zoom and width_zoom: above 1 shows more of the image). */
  transform(x: Tensor, { heightZoom, widthZoom }: { heightZoom: Tensor; widthZoom: Tensor }): Tensor {
    return affineTransform(x, { zoomX: widthZoom, zoomY: heightZoom }, this.sampling);
  }

  protected ownConfig(): serialization.ConfigDict {
    return { heightFactor: this.heightFactor, widthFactor: this.widthFactor, ...this.sampling };
  }
}

const FLIP_MODES: readonly FlipMode[] = ["horizontal", "vertical", "horizontal_and_vertical"];

/** Keras's RandomFlip: each image flipped with probability 1/2. */
export class RandomFlip extends RandomImageLayer<{ flips: Tensor }> {
  static get className(): string {
    return "RandomFlip";
  }
  readonly mode: FlipMode;

  constructor(args: RandomFlipArgs = {}) {
    super("randomFlip", args);
    this.mode = args.mode ?? "horizontal_and_vertical";
    if (!FLIP_MODES.includes(this.mode)) {
      throw new UserError(
        `layers.randomFlip: mode must be one of ${FLIP_MODES.map((m) => `"${m}"`).join(", ")}, e.g. ` +
          `layers.randomFlip({ mode: "horizontal" }); got ${JSON.stringify(args.mode)}.`,
      );
    }
  }

  draw(n: number) {
    const [u] = uniformDraws(n, [[0, 1]], () => this.seeds.next());
    return { flips: tf.lessEqual(u!, 0.5) };
  }

  /** The images where `flips` ([n], bool) is true flipped: both ways at once in "horizontal_and_vertical", as Keras. */
  transform(x: Tensor, { flips }: { flips: Tensor }): Tensor {
    const axes = { horizontal: [2], vertical: [1], horizontal_and_vertical: [1, 2] }[this.mode];
    return flipImages(x, flips, axes);
  }

  protected ownConfig(): serialization.ConfigDict {
    return { mode: this.mode };
  }
}

/**
 * Keras's RandomContrast: each image's contrast about its mean scaled by a random factor, clipped to the value range.
 */
export class RandomContrast extends RandomImageLayer<{ factors: Tensor }> {
  static get className(): string {
    return "RandomContrast";
  }
  readonly factor: [number, number];
  readonly valueRange: [number, number];

  constructor(args: RandomContrastArgs) {
    super("randomContrast", args);
    const eg = example("randomContrast", "factor: 0.2, valueRange: [0, 1]");
    this.factor = factorRange("randomContrast", "factor", args.factor, [0, 1], eg, (f) => [0, f]);
    const range = args.valueRange ?? [0, 255];
    if (
      !Array.isArray(range) ||
      range.length !== 2 ||
      !range.every((v) => typeof v === "number" && Number.isFinite(v)) ||
      !(range[0] < range[1])
    ) {
      throw new UserError(
        `layers.randomContrast: valueRange must be [low, high] with low below high, ${eg}; got ` +
          `${JSON.stringify(args.valueRange)}.`,
      );
    }
    this.valueRange = [range[0], range[1]];
  }

  draw(n: number) {
    const [factors] = uniformDraws(n, [[1 - this.factor[0], 1 + this.factor[1]]], () => this.seeds.next());
    return { factors: factors! };
  }

  /** Each image's contrast scaled by its factor (Keras's contrast_factor). */
  transform(x: Tensor, { factors }: { factors: Tensor }): Tensor {
    return adjustContrast(x, factors, this.valueRange);
  }

  protected ownConfig(): serialization.ConfigDict {
    return { factor: this.factor, valueRange: this.valueRange };
  }
}

// Registered: a saved model with any of them loads through tf.loadLayersModel.
for (const layer of [RandomRotation, RandomTranslation, RandomZoom, RandomFlip, RandomContrast])
  tf.serialization.registerClass(layer);

/** Whether the layer is one of these. */
export const isRandomImageLayer = (layer: unknown): layer is RandomImageLayer<unknown> =>
  layer instanceof RandomImageLayer;

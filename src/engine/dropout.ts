/**
 * Dropout whose masks follow a seed, as a tfjs-layers layer (kerasLayers'
 * `layers.dropout` and `layers.spatialDropout2d`). tfjs's own Dropout, given a
 * seed, draws the same mask at every step (each call restarts its generator
 * from that seed); this one draws call n's mask from (seed, n), so runs repeat
 * exactly and masks still differ from step to step. It saves as a plain
 * "Dropout" (or "SpatialDropout2D"). Its mask is the engine's op, so the
 * staged step (stages.ts) can draw the very same one.
 */
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import type { Shape, Tensor, serialization } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { dropout, SeedSequence } from "./random";

export class SeededDropout extends tf.layers.Layer {
  static get className(): string {
    return "Dropout";
  }

  readonly rate: number;
  private readonly seeds: SeedSequence;

  constructor(config: { rate: number; seed?: number | null; name: string }) {
    super({ name: config.name });
    this.rate = config.rate;
    this.seeds = new SeedSequence(config.seed ?? undefined);
  }

  /** The shape of the mask for an input of `shape`: one unit per value. */
  maskShape(shape: number[]): number[] {
    return shape;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (kwargs["training"] !== true) return x.clone();
    return dropout(x, this.rate, () => this.nextMaskSeed(), this.maskShape(x.shape));
  }

  /** The seed of the next training call's mask: (seed, n) for call n, or random without a seed. */
  nextMaskSeed(): [number, number] {
    return this.seeds.next();
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seeds.seed ?? null };
  }
}

/** Keras's SpatialDropout2D: drops whole feature maps, one mask value per example and channel. */
export class SeededSpatialDropout2D extends SeededDropout {
  static override get className(): string {
    return "SpatialDropout2D";
  }

  override maskShape(shape: number[]): number[] {
    return [shape[0]!, 1, 1, shape[3]!];
  }
}
// tfjs-layers has no SpatialDropout2D of its own: registered, a saved model with one loads.
tf.serialization.registerClass(SeededSpatialDropout2D);

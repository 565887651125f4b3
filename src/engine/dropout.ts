/**
 * Dropout whose masks follow a seed, as a tfjs-layers layer (kerasLayers'
 * `layers.dropout`). tfjs's own Dropout, given a seed, draws the same mask at
 * every step (each call restarts its generator from that seed); this one draws
 * call n's mask from (seed, n), so runs repeat exactly and masks still differ
 * from step to step. It saves as a plain "Dropout". Its mask is the engine's
 * op, so the staged step (stages.ts) can draw the very same one.
 */
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import type { Shape, Tensor, serialization } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { dropout } from "./random";

export class SeededDropout extends tf.layers.Layer {
  static get className(): string {
    return "Dropout";
  }

  readonly rate: number;
  private readonly seed: number | undefined;
  private calls = 0;

  constructor(config: { rate: number; seed?: number; name: string }) {
    super({ name: config.name });
    this.rate = config.rate;
    this.seed = config.seed;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (kwargs["training"] !== true) return x.clone();
    return dropout(x, this.rate, this.nextMaskSeed());
  }

  /** The seed of the next training call's mask: (seed, n) for call n, or random without a seed. */
  nextMaskSeed(): [number, number] {
    const random = () => Math.floor(Math.random() * 2 ** 31);
    return this.seed === undefined ? [random(), random()] : [this.seed, this.calls++];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed ?? null };
  }
}

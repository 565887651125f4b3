/**
 * Keras's layers, for model cells that read like the seed's:
 *
 *   const layers = kerasLayers(params.seed);
 *   const model = layers.sequential("model 1");
 *   model.add(layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
 *
 * Every layer is tfjs-layers' own, so any of them trains (the fast path in
 * forward.ts takes the ones it knows). What this adds: Keras's names, counted
 * across the models of one `kerasLayers` (conv2d, conv2d_1, … then conv2d_2 in
 * the next model, as in the seed); initial weights and dropout masks that
 * follow the seed; a `summary()` in Keras's layout; and re-run cleanup: a
 * model built again under the same label replaces the previous one, freeing
 * its weights and optimizer.
 */
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import type { Shape, Tensor, serialization } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import { dropout } from "./kernels";
import { kerasSummary } from "./summary";

/**
 * Dropout whose masks follow a seed. tfjs's own Dropout, given a seed, draws
 * the same mask at every step (each call restarts its generator from that
 * seed); this one draws call n's mask from (seed, n), so runs repeat exactly
 * and masks still differ from step to step. It saves as a plain "Dropout".
 */
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

/** A Sequential model whose `summary()` prints Keras's layout (summary.ts). */
export class KerasSequential extends tf.Sequential {
  override summary(_lineLength?: number, _positions?: number[], printFn: (message?: unknown) => void = console.log): void {
    printFn(kerasSummary(this));
  }
}

type Args<F extends (config: never) => unknown> = NonNullable<Parameters<F>[0]>;
type Layer = InstanceType<typeof tf.layers.Layer>;

/** The models built under each label in this kernel (the notebook session), to free one when its cell runs again. */
const modelsByLabel = new Map<string, KerasSequential>();

export interface KerasLayers {
  /**
   * A new Sequential model (Keras's `keras.Sequential()`). With a label,
   * building the same label again (re-running its cell) replaces and frees
   * the previous one. `name` overrides Keras's model name.
   */
  sequential(label?: string, options?: { name?: string }): KerasSequential;
  conv2d(config: Args<typeof tf.layers.conv2d>): Layer;
  dense(config: Args<typeof tf.layers.dense>): Layer;
  maxPooling2d(config?: Args<typeof tf.layers.maxPooling2d>): Layer;
  averagePooling2d(config?: Args<typeof tf.layers.averagePooling2d>): Layer;
  batchNormalization(config?: Args<typeof tf.layers.batchNormalization>): Layer;
  flatten(config?: Args<typeof tf.layers.flatten>): Layer;
  /** Dropout with masks that follow the seed (a plain "Dropout" when saved). */
  dropout(config: { rate: number }): Layer;
}

/**
 * Layers named and seeded as Keras would make them. Each model counts seeds
 * from `seed` anew (its k-th layer with random weights or masks gets seed + k),
 * so the same cell gives the same numbers however often it runs.
 */
export function kerasLayers(seed?: number): KerasLayers {
  const counters = new Map<string, number>(); // Keras's per-session name counters
  // per label: the model's name and the name counters when it was first built
  const firstBuilt = new Map<string, { name: string; counters: Map<string, number> }>();
  let naming = counters;
  let seeds = seed;
  const nextSeed = () => (seeds === undefined ? undefined : (seeds += 1));

  const kerasName = (base: string) => {
    const n = naming.get(base) ?? 0;
    naming.set(base, n + 1);
    counters.set(base, Math.max(counters.get(base) ?? 0, n + 1));
    return n === 0 ? base : `${base}_${n}`;
  };
  // Keras's default initialisers (glorot_uniform, zeros), seeded unless the cell chose its own.
  const withInit = <C extends { kernelInitializer?: unknown; biasInitializer?: unknown }>(config: C) => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }),
    biasInitializer: "zeros" as const,
    ...config,
  });

  return {
    sequential(label, options = {}) {
      seeds = seed;
      if (label === undefined) {
        naming = counters;
        return new KerasSequential({ name: options.name ?? kerasName("sequential") });
      }
      const previous = modelsByLabel.get(label);
      previous?.optimizer?.dispose();
      previous?.dispose();
      // Built again: the same names as the first time, so its summary reads the same.
      let first = firstBuilt.get(label);
      if (first === undefined) {
        naming = new Map(counters);
        first = { counters: new Map(counters), name: options.name ?? kerasName("sequential") };
        firstBuilt.set(label, first);
      }
      naming = new Map(first.counters);
      const model = new KerasSequential({ name: first.name });
      modelsByLabel.set(label, model);
      return model;
    },
    conv2d: (config) => tf.layers.conv2d({ name: kerasName("conv2d"), ...withInit(config) }),
    dense: (config) => tf.layers.dense({ name: kerasName("dense"), ...withInit(config) }),
    maxPooling2d: (config = {}) => tf.layers.maxPooling2d({ name: kerasName("max_pooling2d"), ...config }),
    averagePooling2d: (config = {}) => tf.layers.averagePooling2d({ name: kerasName("average_pooling2d"), ...config }),
    batchNormalization: (config = {}) => tf.layers.batchNormalization({ name: kerasName("batch_normalization"), ...config }),
    flatten: (config = {}) => tf.layers.flatten({ name: kerasName("flatten"), ...config }),
    dropout: ({ rate }) => {
      if (!(rate >= 0 && rate < 1)) throw new UserError(`Dropout rate must be from 0 up to, not including, 1; got ${rate}.`);
      return new SeededDropout({ rate, seed: nextSeed(), name: kerasName("dropout") });
    },
  };
}

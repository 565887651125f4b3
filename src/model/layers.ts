/**
 * Keras's layers, for model cells that read like the seed's:
 *
 *   const layers = kerasLayers(seed);
 *   const model = layers.sequential({ name: "model_1" });
 *   model.add(layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));
 *
 * Every layer is tfjs-layers' own, so any of them trains (engine/stages.ts
 * puts the ones it knows on the fast path). What this adds: Keras's names, counted
 * across the models of one factory (conv2d, conv2d_1, … then conv2d_2 in the
 * next model, as in the seed); initial weights and dropout masks that follow
 * the seed; and re-run cleanup: a model built again under the same name
 * replaces the previous one, freeing its weights and optimizer. The model
 * class itself (with Keras's fit) is the training layer's: it hands its
 * constructor in (training/sequential.ts).
 */
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import type { Layer, Network } from "../core/network";
import {
  RandomContrast,
  RandomFlip,
  RandomRotation,
  RandomTranslation,
  RandomZoom,
  SeededDropout,
  SeededSpatialDropout2D,
  type RandomContrastArgs,
  type RandomFlipArgs,
  type RandomRotationArgs,
  type RandomTranslationArgs,
  type RandomZoomArgs,
} from "../engine";
import { checkDropoutRate } from "./rules";

type Args<F extends (config: never) => unknown> = NonNullable<Parameters<F>[0]>;

/** The models built under each name in this kernel (the notebook session), to free one when its cell runs again. */
const modelsByName = new Map<string, Network>();

export interface KerasLayers<M extends Network> {
  /**
   * A new Sequential model (Keras's `keras.Sequential(name=…)`). Building the
   * same name again (re-running its cell) replaces and frees the previous
   * model. Without a name, Keras's own: "sequential", "sequential_1", …
   */
  sequential(options?: { name?: string }): M;
  conv2d(config: Args<typeof tf.layers.conv2d>): Layer;
  dense(config: Args<typeof tf.layers.dense>): Layer;
  maxPooling2d(config?: Args<typeof tf.layers.maxPooling2d>): Layer;
  averagePooling2d(config?: Args<typeof tf.layers.averagePooling2d>): Layer;
  batchNormalization(config?: Args<typeof tf.layers.batchNormalization>): Layer;
  globalAveragePooling2d(config?: Args<typeof tf.layers.globalAveragePooling2d>): Layer;
  globalMaxPooling2d(config?: Args<typeof tf.layers.globalMaxPooling2d>): Layer;
  flatten(config?: Args<typeof tf.layers.flatten>): Layer;
  reshape(config: Args<typeof tf.layers.reshape>): Layer;
  activation(config: Args<typeof tf.layers.activation>): Layer;
  reLU(config?: Args<typeof tf.layers.reLU>): Layer;
  leakyReLU(config?: Args<typeof tf.layers.leakyReLU>): Layer;
  elu(config?: Args<typeof tf.layers.elu>): Layer;
  softmax(config?: Args<typeof tf.layers.softmax>): Layer;
  /** Dropout with masks that follow the seed (a plain "Dropout" when saved). */
  dropout(config: { rate: number }): Layer;
  /** Keras's SpatialDropout2D: drops whole feature maps, with masks that follow the seed. */
  spatialDropout2d(config: { rate: number }): Layer;
  /**
   * Keras's random image layers: in training each batch's images are changed
   * afresh (draws that follow the seed), in evaluate and predict they pass
   * through. Put them first, e.g.
   * `layers.randomRotation({ factor: 0.05, inputShape: [28, 28, 1] })` turns by up to ±18°.
   */
  randomRotation(config: RandomRotationArgs): Layer;
  /** Shifts by up to a fraction of the height and width: `{ heightFactor: 0.1, widthFactor: 0.1 }`. */
  randomTranslation(config: RandomTranslationArgs): Layer;
  /** Zooms in or out by up to a fraction: `{ heightFactor: 0.1 }` (positive zooms out). */
  randomZoom(config: RandomZoomArgs): Layer;
  /** Flips with probability 1/2: `{ mode: "horizontal" }` (no use for digits, whose mirror image is no digit). */
  randomFlip(config?: RandomFlipArgs): Layer;
  /** Scales contrast about each image's mean: `{ factor: 0.2, valueRange: [0, 1] }` for images scaled to 1. */
  randomContrast(config: RandomContrastArgs): Layer;
}

/**
 * Layers named and seeded as Keras would make them, and models made by
 * `newModel(name, seed)`. Each model counts seeds from `seed` anew (its k-th
 * layer with random weights or masks gets seed + k), so the same cell gives
 * the same numbers however often it runs.
 */
export function layerFactory<M extends Network>(
  seed: number | undefined,
  newModel: (name: string, seed: number | undefined) => M,
): KerasLayers<M> {
  if (seed !== undefined && !Number.isSafeInteger(seed))
    throw new UserError(`kerasLayers: the seed must be a whole number, e.g. 42; got ${seed}.`);
  const counters = new Map<string, number>(); // Keras's per-session name counters
  // per model name: the name counters when it was first built
  const firstBuilt = new Map<string, Map<string, number>>();
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

  // The model's seed for a random layer's draws, unless the cell gave one.
  const seeded = <C extends { seed?: number | null }>(config: C) => ({ seed: nextSeed(), ...config });

  return {
    sequential({ name } = {}) {
      seeds = seed;
      if (name === undefined) {
        naming = counters;
        return newModel(kerasName("sequential"), seed);
      }
      const previous = modelsByName.get(name);
      previous?.optimizer?.dispose();
      previous?.dispose();
      // Built again: the same layer names as the first time, so its summary reads the same.
      let first = firstBuilt.get(name);
      if (first === undefined) {
        first = new Map(counters);
        firstBuilt.set(name, first);
      }
      naming = new Map(first);
      const model = newModel(name, seed);
      modelsByName.set(name, model);
      return model;
    },
    conv2d: (config) => tf.layers.conv2d({ name: kerasName("conv2d"), ...withInit(config) }),
    dense: (config) => tf.layers.dense({ name: kerasName("dense"), ...withInit(config) }),
    maxPooling2d: (config = {}) => tf.layers.maxPooling2d({ name: kerasName("max_pooling2d"), ...config }),
    averagePooling2d: (config = {}) => tf.layers.averagePooling2d({ name: kerasName("average_pooling2d"), ...config }),
    batchNormalization: (config = {}) =>
      tf.layers.batchNormalization({ name: kerasName("batch_normalization"), ...config }),
    globalAveragePooling2d: (config = {}) =>
      tf.layers.globalAveragePooling2d({ name: kerasName("global_average_pooling2d"), ...config }),
    globalMaxPooling2d: (config = {}) =>
      tf.layers.globalMaxPooling2d({ name: kerasName("global_max_pooling2d"), ...config }),
    flatten: (config = {}) => tf.layers.flatten({ name: kerasName("flatten"), ...config }),
    reshape: (config) => tf.layers.reshape({ name: kerasName("reshape"), ...config }),
    activation: (config) => tf.layers.activation({ name: kerasName("activation"), ...config }),
    reLU: (config = {}) => tf.layers.reLU({ name: kerasName("re_lu"), ...config }),
    leakyReLU: (config = {}) => tf.layers.leakyReLU({ name: kerasName("leaky_re_lu"), ...config }),
    elu: (config = {}) => tf.layers.elu({ name: kerasName("elu"), ...config }),
    // Keras's Softmax takes the last axis; tfjs-layers' own defaults to axis 1
    softmax: (config = {}) => tf.layers.softmax({ name: kerasName("softmax"), axis: -1, ...config }),
    dropout: ({ rate }) => {
      checkDropoutRate("Dropout rate", rate);
      return new SeededDropout({ rate, seed: nextSeed(), name: kerasName("dropout") });
    },
    spatialDropout2d: ({ rate }) => {
      checkDropoutRate("SpatialDropout2D rate", rate);
      return new SeededSpatialDropout2D({ rate, seed: nextSeed(), name: kerasName("spatial_dropout2d") });
    },
    randomRotation: (config) => new RandomRotation({ name: kerasName("random_rotation"), ...seeded(config) }),
    randomTranslation: (config) => new RandomTranslation({ name: kerasName("random_translation"), ...seeded(config) }),
    randomZoom: (config) => new RandomZoom({ name: kerasName("random_zoom"), ...seeded(config) }),
    randomFlip: (config = {}) => new RandomFlip({ name: kerasName("random_flip"), ...seeded(config) }),
    randomContrast: (config) => new RandomContrast({ name: kerasName("random_contrast"), ...seeded(config) }),
  };
}

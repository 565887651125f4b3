/**
 * The assignment's two convolutional networks, built with tfjs-layers so that
 * `summary()`, `predict()` and `save()` work as users expect.
 */
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import type { Sequential, Shape, Tensor, serialization } from "@tensorflow/tfjs-node";
import { tf } from "./backend";
import { UserError } from "./errors";
import { dropout } from "./kernels";

export interface ConvNetOptions {
  /** Dropout rate after the pooling layer; 0 leaves the layer out (model 1). */
  dropoutConv?: number;
  /** Dropout rate after Dense(128); 0 leaves the layer out (model 1). */
  dropoutDense?: number;
  /** Makes initial weights and dropout masks repeatable. */
  seed?: number;
  /** Shape of one image. */
  inputShape?: [number, number, number];
  numClasses?: number;
  name?: string;
}

/**
 * Dropout whose masks follow a seed. tfjs's own Dropout, given a seed, draws
 * the same mask at every step (each call restarts its generator from that
 * seed); this one draws call n's mask from (seed, n), so runs repeat exactly
 * and masks still differ from step to step. It saves as a plain "Dropout".
 */
class SeededDropout extends tf.layers.Layer {
  static get className(): string {
    return "Dropout";
  }

  private readonly rate: number;
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
    const random = () => Math.floor(Math.random() * 2 ** 31);
    return dropout(x, this.rate, this.seed === undefined ? [random(), random()] : [this.seed, this.calls++]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed ?? null };
  }
}

function checkRate(name: string, rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new UserError(`${name} must be in [0, 1), got ${rate}.`);
}

const built = new Map<string, Sequential>();

/**
 * Conv2D(32, 3×3, relu) → Conv2D(64, 3×3, relu) → MaxPool(2×2) → [Dropout]
 * → Flatten → Dense(128, relu) → [Dropout] → Dense(10, softmax): 1,199,882
 * parameters for 28×28×1 inputs. Layer names follow Keras's.
 *
 * Building again under the same `name` frees the previous model of that name
 * and its optimizer, so re-running a notebook cell does not pile up memory.
 */
export function buildConvNet(options: ConvNetOptions = {}): Sequential {
  const { dropoutConv = 0, dropoutDense = 0, seed, inputShape = [28, 28, 1], numClasses = 10 } = options;
  checkRate("dropoutConv", dropoutConv);
  checkRate("dropoutDense", dropoutDense);
  let seeds = seed;
  const nextSeed = () => (seeds === undefined ? undefined : (seeds = seeds + 1));
  const counters = new Map<string, number>();
  const kerasName = (base: string) => {
    const n = counters.get(base) ?? 0;
    counters.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  };
  const init = () => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }),
    biasInitializer: "zeros" as const,
  });
  const dropout = (rate: number) => new SeededDropout({ rate, seed: nextSeed(), name: kerasName("dropout") });

  const name = options.name ?? "sequential";
  const previous = built.get(name);
  if (previous !== undefined) {
    previous.optimizer?.dispose();
    previous.dispose();
  }
  const model = tf.sequential({ name });
  built.set(name, model);
  model.add(tf.layers.conv2d({ name: kerasName("conv2d"), filters: 32, kernelSize: [3, 3], activation: "relu", inputShape, ...init() }));
  model.add(tf.layers.conv2d({ name: kerasName("conv2d"), filters: 64, kernelSize: [3, 3], activation: "relu", ...init() }));
  model.add(tf.layers.maxPooling2d({ name: kerasName("max_pooling2d"), poolSize: [2, 2] }));
  if (dropoutConv > 0) model.add(dropout(dropoutConv));
  model.add(tf.layers.flatten({ name: kerasName("flatten") }));
  model.add(tf.layers.dense({ name: kerasName("dense"), units: 128, activation: "relu", ...init() }));
  if (dropoutDense > 0) model.add(dropout(dropoutDense));
  model.add(tf.layers.dense({ name: kerasName("dense"), units: numClasses, activation: "softmax", ...init() }));
  return model;
}

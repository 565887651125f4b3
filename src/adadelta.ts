/**
 * Adadelta with Keras's update rule.
 *
 * tfjs-core's `tf.train.adadelta` scales each step by the squared-gradient
 * accumulator from *before* the current gradient is added. Keras (and
 * TensorFlow's ApplyAdadelta) add the gradient first:
 *
 *   Eg²  ← ρ·Eg² + (1−ρ)·g²
 *   Δ    ← −√(EΔ² + ε) / √(Eg² + ε) · g
 *   EΔ²  ← ρ·EΔ² + (1−ρ)·Δ²
 *   θ    ← θ + lr·Δ
 *
 * With learning rate 1 (the assignment's setting) the first rule takes steps
 * of about √(ε/ε)·g = g on a fresh accumulator and the seed's network
 * collapses to chance; this one matches Keras.
 */
import type { NamedTensorMap, Tensor, Variable, serialization } from "@tensorflow/tfjs-node";
import { tf } from "./backend";
import { UserError } from "./errors";

export interface AdadeltaOptions {
  /** Keras's default is 0.001; the assignment uses 1.0. */
  learningRate?: number;
  rho?: number;
  epsilon?: number;
}

type NamedTensor = { name: string; tensor: Tensor };

interface Scalars {
  rho: Tensor;
  oneMinusRho: Tensor;
  epsilon: Tensor;
  learningRate: Tensor;
}

interface Slots {
  accumulatedGrad: Variable;
  accumulatedDelta: Variable;
}

export class KerasAdadelta extends tf.Optimizer {
  static get className(): string {
    return "KerasAdadelta";
  }

  readonly learningRate: number;
  readonly rho: number;
  readonly epsilon: number;
  private readonly slots = new Map<string, Slots>();
  private scalars: Scalars | null = null;

  constructor({ learningRate = 0.001, rho = 0.95, epsilon = 1e-7 }: AdadeltaOptions = {}) {
    super();
    for (const [name, value] of Object.entries({ learningRate, rho, epsilon })) {
      if (!Number.isFinite(value) || value < 0) throw new UserError(`Adadelta ${name} must be a finite number ≥ 0, got ${value}.`);
    }
    this.learningRate = learningRate;
    this.rho = rho;
    this.epsilon = epsilon;
  }

  applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const pairs = Array.isArray(variableGradients)
      ? variableGradients.map(({ name, tensor }) => [name, tensor] as const)
      : Object.entries(variableGradients);
    const { rho, oneMinusRho, epsilon, learningRate } = this.constants();
    for (const [name, gradient] of pairs) {
      if (gradient == null) continue;
      const variable = tf.engine().registeredVariables[name];
      if (variable === undefined) throw new Error(`Adadelta: no variable named ${name} is registered.`);
      const { accumulatedGrad, accumulatedDelta } = this.slotsFor(name, variable);
      // Written for few passes over the weights (the dense kernel has 1.18M):
      // Δ = √((EΔ² + ε) / (Eg² + ε)) · g, negated in the final subtraction.
      tf.tidy(() => {
        const newGrad = tf.add(tf.mul(accumulatedGrad, rho), tf.mul(tf.square(gradient), oneMinusRho));
        const delta = tf.mul(tf.sqrt(tf.div(tf.add(accumulatedDelta, epsilon), tf.add(newGrad, epsilon))), gradient);
        accumulatedGrad.assign(newGrad);
        accumulatedDelta.assign(tf.add(tf.mul(accumulatedDelta, rho), tf.mul(tf.square(delta), oneMinusRho)));
        variable.assign(tf.sub(variable, this.learningRate === 1 ? delta : tf.mul(delta, learningRate)));
      });
    }
    this.incrementIterations();
  }

  /** The hyper-parameters as scalar tensors, made once rather than at every step (kept: steps run inside tidy). */
  private constants(): Scalars {
    this.scalars ??= {
      rho: tf.keep(tf.scalar(this.rho)),
      oneMinusRho: tf.keep(tf.scalar(1 - this.rho)),
      epsilon: tf.keep(tf.scalar(this.epsilon)),
      learningRate: tf.keep(tf.scalar(this.learningRate)),
    };
    return this.scalars;
  }

  override dispose(): void {
    if (this.scalars !== null) tf.dispose(Object.values(this.scalars));
    this.scalars = null;
    for (const { accumulatedGrad, accumulatedDelta } of this.slots.values()) {
      accumulatedGrad.dispose();
      accumulatedDelta.dispose();
    }
    this.slots.clear();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const entries = [...this.slots.entries()];
    return [
      await this.saveIterations(),
      ...entries.map(([name, s]) => ({ name: `${name}/accumulated_grad`, tensor: s.accumulatedGrad })),
      ...entries.map(([name, s]) => ({ name: `${name}/accumulated_delta_var`, tensor: s.accumulatedDelta })),
    ];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const values = await this.extractIterations(weightValues);
    this.dispose();
    const half = values.length / 2;
    values.slice(0, half).forEach(({ name, tensor }, i) => {
      const delta = values[half + i];
      if (delta === undefined) throw new Error("Adadelta.setWeights: unpaired accumulator weights.");
      this.slots.set(name.replace(/\/accumulated_grad$/, ""), {
        accumulatedGrad: tensor.variable(false),
        accumulatedDelta: delta.tensor.variable(false),
      });
    });
  }

  getConfig() {
    return { learningRate: this.learningRate, rho: this.rho, epsilon: this.epsilon };
  }

  static override fromConfig<T extends serialization.Serializable>(
    cls: serialization.SerializableConstructor<T>,
    config: serialization.ConfigDict,
  ): T {
    return new cls(config) as T;
  }

  private slotsFor(name: string, variable: Variable): Slots {
    let slots = this.slots.get(name);
    if (slots === undefined) {
      slots = {
        accumulatedGrad: tf.tidy(() => tf.zerosLike(variable).variable(false)),
        accumulatedDelta: tf.tidy(() => tf.zerosLike(variable).variable(false)),
      };
      this.slots.set(name, slots);
    }
    return slots;
  }
}
tf.serialization.registerClass(KerasAdadelta);

/** `keras.optimizers.Adadelta(learning_rate=…)` for tfjs models. */
export function adadelta(options: AdadeltaOptions = {}): KerasAdadelta {
  return new KerasAdadelta(options);
}

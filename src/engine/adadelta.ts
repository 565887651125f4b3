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
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import { variableNamed } from "./internals";
import { ResourceVariable } from "./variables";

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

/**
 * A weight's accumulators. On TensorFlow they are resource variables updated
 * by its fused ResourceApplyAdadelta, with a resource copy of the weight;
 * elsewhere, tfjs variables updated by tfjs ops.
 */
type Slots =
  | { fused: true; weight: ResourceVariable; accumulatedGrad: ResourceVariable; accumulatedDelta: ResourceVariable }
  | { fused: false; accumulatedGrad: Variable; accumulatedDelta: Variable };

function makeSlots(weight: Tensor, accumulatedGrad: Tensor, accumulatedDelta: Tensor): Slots {
  const resource = ResourceVariable.create(weight);
  if (resource !== null) {
    return {
      fused: true,
      weight: resource,
      accumulatedGrad: ResourceVariable.create(accumulatedGrad)!,
      accumulatedDelta: ResourceVariable.create(accumulatedDelta)!,
    };
  }
  return {
    fused: false,
    accumulatedGrad: accumulatedGrad.variable(false),
    accumulatedDelta: accumulatedDelta.variable(false),
  };
}

const accumulators = (slots: Slots): [Tensor, Tensor] =>
  slots.fused
    ? [slots.accumulatedGrad.read(), slots.accumulatedDelta.read()]
    : [slots.accumulatedGrad, slots.accumulatedDelta];

function disposeSlots(slots: Slots): void {
  if (slots.fused) slots.weight.dispose();
  slots.accumulatedGrad.dispose();
  slots.accumulatedDelta.dispose();
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
      if (!Number.isFinite(value) || value < 0)
        throw new UserError(`Adadelta ${name} must be a finite number ≥ 0, got ${value}.`);
    }
    this.learningRate = learningRate;
    this.rho = rho;
    this.epsilon = epsilon;
  }

  applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const pairs = Array.isArray(variableGradients)
      ? variableGradients.map(({ name, tensor }) => [name, tensor] as const)
      : Object.entries(variableGradients);
    const scalars = this.constants();
    for (const [name, gradient] of pairs) {
      if (gradient == null) continue;
      const variable = variableNamed(name);
      if (variable === undefined) throw new Error(`Adadelta: no variable named ${name} is registered.`);
      const slots = this.slotsFor(name, variable);
      tf.tidy(() => {
        if (slots.fused) {
          // The tfjs variable stays the weight's owner (setWeights, saving and
          // evaluation read it): copy it in, update, hand the result back.
          slots.weight.assign(variable);
          slots.weight.applyAdadelta(slots.accumulatedGrad, slots.accumulatedDelta, scalars, gradient);
          variable.assign(slots.weight.read());
        } else {
          const { accumulatedGrad, accumulatedDelta } = slots;
          const { rho, oneMinusRho, epsilon, learningRate } = scalars;
          // Δ = √((EΔ² + ε) / (Eg² + ε)) · g, negated in the final subtraction.
          const newGrad = tf.add(tf.mul(accumulatedGrad, rho), tf.mul(tf.square(gradient), oneMinusRho));
          const delta = tf.mul(tf.sqrt(tf.div(tf.add(accumulatedDelta, epsilon), tf.add(newGrad, epsilon))), gradient);
          accumulatedGrad.assign(newGrad);
          accumulatedDelta.assign(tf.add(tf.mul(accumulatedDelta, rho), tf.mul(tf.square(delta), oneMinusRho)));
          variable.assign(tf.sub(variable, tf.mul(delta, learningRate)));
        }
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
    for (const slots of this.slots.values()) disposeSlots(slots);
    this.slots.clear();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const entries = [...this.slots.entries()].map(([name, slots]) => [name, accumulators(slots)] as const);
    return [
      await this.saveIterations(),
      ...entries.map(([name, [grad]]) => ({ name: `${name}/accumulated_grad`, tensor: grad })),
      ...entries.map(([name, [, delta]]) => ({ name: `${name}/accumulated_delta_var`, tensor: delta })),
    ];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const values = await this.extractIterations(weightValues);
    this.dispose();
    const half = values.length / 2;
    values.slice(0, half).forEach(({ name, tensor }, i) => {
      const delta = values[half + i];
      if (delta === undefined) throw new Error("Adadelta.setWeights: unpaired accumulator weights.");
      const variableName = name.replace(/\/accumulated_grad$/, "");
      const variable = variableNamed(variableName);
      if (variable === undefined)
        throw new Error(`Adadelta.setWeights: no variable named ${variableName} is registered.`);
      this.slots.set(variableName, makeSlots(variable, tensor, delta.tensor));
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
      const zeros = tf.zerosLike(variable);
      slots = makeSlots(variable, zeros, zeros);
      zeros.dispose();
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

import type { Optimizer } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { adadelta, KerasAdadelta } from "../../src/engine/adadelta";
import { tf } from "../../src/core/backend";
import { onBackend } from "../backends";

/** Keras 3's Adadelta.update_step, written out in float64 from its formulas. */
function kerasReference(initial: number[], gradients: number[][], lr: number, rho = 0.95, eps = 1e-7): number[] {
  const value = [...initial];
  const accGrad = value.map(() => 0);
  const accDelta = value.map(() => 0);
  for (const g of gradients) {
    for (let i = 0; i < value.length; i++) {
      accGrad[i] = rho * accGrad[i]! + (1 - rho) * g[i]! ** 2;
      const delta = (-Math.sqrt(accDelta[i]! + eps) / Math.sqrt(accGrad[i]! + eps)) * g[i]!;
      accDelta[i] = rho * accDelta[i]! + (1 - rho) * delta ** 2;
      value[i]! += lr * delta;
    }
  }
  return value;
}

const initial = [0.5, -1.25, 2.0];
const gradients = [
  [0.1, -0.2, 0.3],
  [0.05, 0.4, -0.1],
  [-0.3, 0.01, 0.2],
  [0.2, -0.5, 0.0],
];

function runOptimizer(optimizer: Optimizer): number[] {
  const variable = tf.variable(tf.tensor1d(initial));
  for (const g of gradients) optimizer.applyGradients([{ name: variable.name, tensor: tf.tensor1d(g) }]);
  const result = Array.from(variable.dataSync());
  variable.dispose();
  return result;
}

describe("KerasAdadelta", () => {
  // On TensorFlow it runs the fused ResourceApplyAdadelta; on tfjs's pure-JS
  // cpu backend, tfjs ops. Both must follow Keras's rule.
  it.each([
    ["tensorflow", 1.0],
    ["tensorflow", 0.001],
    ["cpu", 1.0],
    ["cpu", 0.001],
  ])("follows Keras's update rule (%s backend, learning rate %s)", async (backend, lr) => {
    const expected = kerasReference(initial, gradients, lr);
    const actual = await onBackend(backend, () => runOptimizer(adadelta({ learningRate: lr })));
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    // The first step of Keras's rule moves each weight by about √ε·g/√((1−ρ)g²) = √(ε/(1−ρ)) ≈ 1.4e-3·lr
    const firstStep = runOptimizerSteps(lr, 1);
    expect(Math.abs(firstStep[0]! - initial[0]!)).toBeCloseTo(Math.sqrt(1e-7 / 0.05) * lr, 5);
  });

  it("leaves a weight read before a step as it was (the update does not write through shared memory)", () => {
    const variable = tf.variable(tf.tensor1d(initial));
    const optimizer = adadelta({ learningRate: 1.0 });
    const before = variable.clone();
    optimizer.applyGradients({ [variable.name]: tf.tensor1d(gradients[0]!) });
    expect(Array.from(before.dataSync())).toEqual(Array.from(Float32Array.from(initial)));
    expect(Array.from(variable.dataSync())).not.toEqual(Array.from(before.dataSync()));
    // A weight set from outside between steps (as earlyStopping restoring the best weights does) is the one the next step updates.
    variable.assign(tf.tensor1d([10, 20, 30]));
    optimizer.applyGradients({ [variable.name]: tf.tensor1d(gradients[1]!) });
    Array.from(variable.dataSync()).forEach((v, i) => expect(Math.abs(v - [10, 20, 30][i]!)).toBeLessThan(0.01));
    optimizer.dispose();
    tf.dispose([variable, before]);
  });

  it("differs from tfjs's own adadelta, which divides by the accumulator before adding the gradient", () => {
    const variable = tf.variable(tf.tensor1d(initial));
    tf.train.adadelta(1.0, 0.95, 1e-7).applyGradients([{ name: variable.name, tensor: tf.tensor1d(gradients[0]!) }]);
    // tfjs's first step is √ε/√ε·g = g itself (0.1); Keras's is about 0.0014.
    expect(initial[0]! - variable.dataSync()[0]!).toBeCloseTo(0.1, 5);
    expect(initial[0]! - kerasReference(initial, gradients.slice(0, 1), 1.0)[0]!).toBeCloseTo(0.0014, 4);
    variable.dispose();
  });

  it("saves and restores its accumulators, and serialises its config", async () => {
    const optimizer = adadelta({ learningRate: 1.0 });
    const variable = tf.variable(tf.tensor1d(initial));
    optimizer.applyGradients({ [variable.name]: tf.tensor1d(gradients[0]!) });
    const weights = await optimizer.getWeights();
    expect(weights.map((w) => w.name)).toEqual(["iter", `${variable.name}/accumulated_grad`, `${variable.name}/accumulated_delta_var`]);
    const restored = adadelta({ learningRate: 1.0 });
    await restored.setWeights(weights);
    // The next step from the restored state must equal the next step of the original.
    const before = variable.clone();
    optimizer.applyGradients({ [variable.name]: tf.tensor1d(gradients[1]!) });
    const afterOriginal = Array.from(variable.dataSync());
    variable.assign(before);
    restored.applyGradients({ [variable.name]: tf.tensor1d(gradients[1]!) });
    Array.from(variable.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(afterOriginal[i]!, 7));
    expect(optimizer.getConfig()).toEqual({ learningRate: 1.0, rho: 0.95, epsilon: 1e-7 });
    expect(tf.serialization.SerializationMap.getMap().classNameMap[KerasAdadelta.className]).toBeDefined();
    tf.dispose([variable, before]);
  });

  it("rejects nonsense hyper-parameters", () => {
    expect(() => adadelta({ learningRate: -1 })).toThrow(/learningRate must be a finite number ≥ 0, got -1/);
    expect(() => adadelta({ rho: Number.NaN })).toThrow(/rho must be a finite number/);
  });
});

function runOptimizerSteps(lr: number, steps: number): number[] {
  const optimizer = adadelta({ learningRate: lr });
  const variable = tf.variable(tf.tensor1d(initial));
  for (const g of gradients.slice(0, steps)) optimizer.applyGradients({ [variable.name]: tf.tensor1d(g) });
  const result = Array.from(variable.dataSync());
  variable.dispose();
  return result;
}

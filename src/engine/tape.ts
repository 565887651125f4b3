/**
 * An op on tfjs's gradient tape whose gradient the engine writes itself
 * (a stage's backward pass, TensorFlow's fused loss gradient): tf.customGrad,
 * typed once here.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";

type CustomGradient = Parameters<typeof tf.customGrad>[0];

/**
 * An op of `inputs.length` tensors: `forward` gives its value and the tensors
 * its gradient needs; `gradient` gives, from dy and those, one gradient per input.
 */
export function withGradient(
  forward: (inputs: Tensor[]) => { value: Tensor; saved: Tensor[] },
  gradient: (dy: Tensor, saved: Tensor[]) => Tensor[],
): (...inputs: Tensor[]) => Tensor {
  const op = (...args: unknown[]) => {
    const save = args.pop() as (tensors: Tensor[]) => void;
    const { value, saved } = forward(args as Tensor[]);
    save(saved);
    return { value, gradFunc: (dy: Tensor, kept: Tensor[]) => gradient(dy, kept) };
  };
  return tf.customGrad(op as unknown as CustomGradient) as unknown as (...inputs: Tensor[]) => Tensor;
}

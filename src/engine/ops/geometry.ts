/**
 * The shapes the step's ops are described by: a convolution's and a pooling's
 * geometry as Keras's layer arguments give them (NHWC), and what pooling and
 * batch normalization hand from their forward pass to their gradient.
 */
import type { Tensor } from "@tensorflow/tfjs-node";

export type Padding = "valid" | "same";

/** A convolution's geometry, as Keras's Conv2D arguments give it (NHWC). */
export interface ConvGeometry {
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
}

/** A pooling window, as Keras's pooling layers give it (NHWC). */
export interface PoolGeometry {
  size: [number, number];
  strides: [number, number];
  padding: Padding;
}

export const UNIT_CONV: ConvGeometry = { strides: [1, 1], dilations: [1, 1], padding: "valid" };
export const squarePool = (size: number): PoolGeometry => ({
  size: [size, size],
  strides: [size, size],
  padding: "valid",
});

/** Whether a convolution moves one pixel at a time, undilated: the reformulations hold there only. */
export const unitSteps = (g: ConvGeometry) => g.strides.every((s) => s === 1) && g.dilations.every((d) => d === 1);

/** A pooling's output and what its gradient needs besides it. */
export interface Pooled {
  y: Tensor;
  /** oneDNN's workspace (which input won each window), or null where MaxPoolGrad recomputes it. */
  workspace: Tensor | null;
}

/** A batch normalization in training mode: its output, the batch's statistics and what its gradient needs. */
export interface Normalized {
  y: Tensor;
  mean: Tensor;
  /** The batch's variance over its N·H·W values (biased, as Keras's moving average takes it). */
  variance: Tensor;
  /** The kernel's own saved statistics, handed back to its gradient. */
  reserve: Tensor[];
}

/** Batch normalization over the last axis of an NHWC tensor, forward in training mode and backward, by one kernel. */
export interface BatchNormKernel {
  training(x: Tensor, scale: Tensor, offset: Tensor, epsilon: number): Normalized;
  inference(x: Tensor, scale: Tensor, offset: Tensor, mean: Tensor, variance: Tensor, epsilon: number): Tensor;
  /** [dx, dscale, doffset]. */
  backward(dy: Tensor, x: Tensor, scale: Tensor, reserve: Tensor[], epsilon: number): Tensor[];
}

/**
 * Activations as the stages (stages.ts) run them: each a forward op and its
 * gradient. Where TensorFlow has the gradient as one op (ReluGrad, TanhGrad,
 * SigmoidGrad, EluGrad, …) that op is used, reading the activation's output
 * where it can, so the stage keeps one tensor, not two. Any other activation
 * tfjs-layers offers (swish, mish, gelu, hardSigmoid, an ELU whose alpha is
 * not 1, a ReLU capped elsewhere than 6) is tfjs-layers' formula with its
 * derivative written out on tfjs's ops.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import type { Layer } from "../core/network";
import type { NativeOps } from "./kernels";

export interface Activation {
  /** Keras's name ("relu" lets the convolution stage apply it inside oneDNN's fused op). */
  readonly name: string;
  forward(z: Tensor): Tensor;
  /** dL/dz from dL/dy, given z (when `readsInput`) and y = forward(z). */
  backward(dy: Tensor, z: Tensor | null, y: Tensor): Tensor;
  /** Whether backward needs z; if not, the stage keeps only y. */
  readonly readsInput: boolean;
  /** Non-decreasing element by element, so max-pooling commutes with it (the conv stage's fusion). */
  readonly monotone: boolean;
}

export const LINEAR: Activation = {
  name: "linear",
  forward: (z) => z,
  backward: (dy) => dy,
  readsInput: false,
  monotone: true,
};

/** An activation TensorFlow has as one op with a gradient op; `gradient(dy, z, y)` calls the latter. */
function nativeActivation(
  ops: NativeOps,
  name: string,
  op: string,
  gradient: (dy: Tensor, z: Tensor | null, y: Tensor) => Tensor,
  readsInput = false,
): Activation {
  return { name, forward: (z) => ops.float(op, [z]), backward: gradient, readsInput, monotone: true };
}

/** Softmax over the last axis: dz = y·(dy − Σ dy·y). */
function softmax(ops: NativeOps): Activation {
  return {
    name: "softmax",
    forward: (z) => ops.softmax(z),
    backward: (dy, _, y) => tf.tidy(() => tf.mul(y, tf.sub(dy, tf.sum(tf.mul(dy, y), -1, true)))),
    readsInput: false,
    monotone: false,
  };
}

/**
 * An activation TensorFlow has no gradient op for: tfjs-layers' formula, and its derivative written out (dz =
 * dy·f′(z)).
 */
function elementwise(
  name: string,
  f: (z: Tensor) => Tensor,
  derivative: (z: Tensor, y: Tensor) => Tensor,
  monotone: boolean,
): Activation {
  return {
    name,
    forward: f,
    backward: (dy, z, y) => tf.tidy(() => tf.mul(dy, derivative(z!, y))),
    readsInput: true,
    monotone,
  };
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Those of tfjs-layers' activations TensorFlow has no op for, as tfjs-layers defines them. */
const WRITTEN_OUT: Record<string, () => Activation> = {
  // z·σ(z): σ + z·σ·(1 − σ)
  swish: () =>
    elementwise(
      "swish",
      (z) => tf.mul(z, tf.sigmoid(z)),
      (z) => {
        const s = tf.sigmoid(z);
        return tf.add(s, tf.mul(z, tf.mul(s, tf.sub(1, s))));
      },
      false,
    ),
  // z·tanh(softplus(z)): t + z·(1 − t²)·σ(z)
  mish: () =>
    elementwise(
      "mish",
      (z) => tf.mul(z, tf.tanh(tf.softplus(z))),
      (z) => {
        const t = tf.tanh(tf.softplus(z));
        return tf.add(t, tf.mul(z, tf.mul(tf.sub(1, tf.square(t)), tf.sigmoid(z))));
      },
      false,
    ),
  // z·Φ(z): Φ(z) + z·φ(z)
  gelu: () =>
    elementwise(
      "gelu",
      (z) => tf.mul(z, tf.mul(0.5, tf.add(1, tf.erf(tf.div(z, Math.SQRT2))))),
      (z) =>
        tf.add(
          tf.mul(0.5, tf.add(1, tf.erf(tf.div(z, Math.SQRT2)))),
          tf.mul(z, tf.mul(1 / Math.sqrt(2 * Math.PI), tf.exp(tf.mul(-0.5, tf.square(z))))),
        ),
      false,
    ),
  // ½z(1 + tanh(u)), u = √(2/π)(z + 0.044715z³): ½(1 + t) + ½z(1 − t²)·√(2/π)(1 + 3·0.044715z²)
  gelu_new: () => {
    const u = (z: Tensor) => tf.mul(SQRT_2_OVER_PI, tf.add(z, tf.mul(0.044715, tf.pow(z, 3))));
    return elementwise(
      "gelu_new",
      (z) => tf.mul(0.5, tf.mul(z, tf.add(1, tf.tanh(u(z))))),
      (z) => {
        const t = tf.tanh(u(z));
        const du = tf.mul(SQRT_2_OVER_PI, tf.add(1, tf.mul(3 * 0.044715, tf.square(z))));
        return tf.add(tf.mul(0.5, tf.add(1, t)), tf.mul(tf.mul(0.5, z), tf.mul(tf.sub(1, tf.square(t)), du)));
      },
      false,
    );
  },
  // clip(0.2z + 0.5, 0, 1): 0.2 inside (−2.5, 2.5)
  hardSigmoid: () =>
    elementwise(
      "hard_sigmoid",
      (z) => tf.clipByValue(tf.add(0.5, tf.mul(0.2, z)), 0, 1),
      (z) => tf.mul(0.2, tf.cast(tf.logicalAnd(tf.greater(z, -2.5), tf.less(z, 2.5)), "float32")),
      true,
    ),
};

/** min(max(z, 0), cap): 1 strictly between. */
const cappedRelu = (cap: number) =>
  elementwise(
    "relu",
    (z) => tf.clipByValue(z, 0, cap),
    (z) => tf.cast(tf.logicalAnd(tf.greater(z, 0), tf.less(z, cap)), "float32"),
    true,
  );

/** z for z > 0, else α(eᶻ − 1): 1, else y + α. */
const eluWithAlpha = (alpha: number) =>
  elementwise(
    "elu",
    (z) => tf.where(tf.greater(z, 0), z, tf.mul(alpha, tf.sub(tf.exp(z), 1))),
    (z, y) => tf.where(tf.greater(z, 0), tf.onesLike(z), tf.add(y, alpha)),
    alpha >= 0,
  );

/** An activation by the name tfjs-layers gives it in a layer's config, or null for one it does not know. */
export function activationNamed(ops: NativeOps, name: string): Activation | null {
  const grad =
    (op: string, outputFirst = false) =>
    (dy: Tensor, z: Tensor | null, y: Tensor) =>
      ops.float(op, outputFirst ? [y, dy] : [dy, z ?? y]);
  switch (name) {
    case "linear":
      return LINEAR;
    // ReluGrad, Relu6Grad, EluGrad and SeluGrad read the output as well as the input: the sign (and cap) agree
    case "relu":
      return nativeActivation(ops, name, "Relu", grad("ReluGrad"));
    case "relu6":
      return nativeActivation(ops, name, "Relu6", grad("Relu6Grad"));
    case "elu":
      return nativeActivation(ops, name, "Elu", grad("EluGrad"));
    case "selu":
      return nativeActivation(ops, name, "Selu", grad("SeluGrad"));
    case "tanh":
      return nativeActivation(ops, name, "Tanh", grad("TanhGrad", true));
    case "sigmoid":
      return nativeActivation(ops, name, "Sigmoid", grad("SigmoidGrad", true));
    case "softplus":
      return nativeActivation(ops, name, "Softplus", grad("SoftplusGrad"), true);
    case "softsign":
      return nativeActivation(ops, name, "Softsign", grad("SoftsignGrad"), true);
    case "softmax":
      return softmax(ops);
    default:
      return WRITTEN_OUT[name]?.() ?? null;
  }
}

/** The activation a Conv2D or Dense layer applies, or null for one of the user's own. */
export function activationOfLayer(ops: NativeOps, layer: Layer): Activation | null {
  return activationNamed(ops, String(layer.getConfig()["activation"] ?? "linear"));
}

/**
 * The activation an activation layer applies (Activation, ReLU, LeakyReLU,
 * ELU, Softmax), or null for another kind of layer or a softmax over another
 * axis than the last; `rank` is that of the layer's input.
 */
export function activationLayer(ops: NativeOps, layer: Layer, rank: number | null): Activation | null {
  const c = layer.getConfig();
  switch (layer.getClassName()) {
    case "Activation":
      return activationOfLayer(ops, layer);
    case "ReLU": {
      const cap = c["maxValue"] == null ? null : Number(c["maxValue"]);
      return cap === null ? activationNamed(ops, "relu") : cap === 6 ? activationNamed(ops, "relu6") : cappedRelu(cap);
    }
    case "LeakyReLU": {
      const alpha = Number(c["alpha"] ?? 0.3);
      const attrs = [ops.attrs.f32("alpha", alpha)];
      return {
        name: "leaky_relu",
        forward: (z) => ops.float("LeakyRelu", [z], attrs),
        // LeakyReluGrad tests its "features" for > 0, which y passes as z does when alpha ≥ 0
        backward: (dy, z, y) => ops.float("LeakyReluGrad", [dy, z ?? y], attrs),
        readsInput: alpha < 0,
        monotone: alpha >= 0,
      };
    }
    case "ELU": {
      const alpha = Number(c["alpha"] ?? 1);
      return alpha === 1 ? activationNamed(ops, "elu") : eluWithAlpha(alpha);
    }
    case "Softmax": {
      // tfjs-layers' Softmax layer defaults to axis 1, Keras's (and kerasLayers') to the last
      const axis = Array.isArray(c["axis"]) && c["axis"].length === 1 ? c["axis"][0] : c["axis"];
      return axis === -1 || (typeof axis === "number" && rank !== null && axis === rank - 1)
        ? activationNamed(ops, "softmax")
        : null;
    }
    default:
      return null;
  }
}

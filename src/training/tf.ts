/**
 * The `tf` the package exports (`import { tf } from "deep-convolution"`):
 * tfjs-node's own, types included, except that `tf.sequential()` makes models
 * that train on this package's engine (tfjsSequential.ts).
 */
import "../core/backend"; // loads TensorFlow first, with its allocator and a plain error if the binding is broken
export { sequential } from "./tfjsSequential";
export * from "@tensorflow/tfjs-node";

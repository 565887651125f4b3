/**
 * The tfjs model and layer types the helpers read. `Network` leaves out what
 * KerasSequential redefines with Keras's semantics (fit, evaluate, history),
 * so both it and a plain tfjs LayersModel qualify.
 */
import type { LayersModel } from "@tensorflow/tfjs-node";

export type Network = Omit<LayersModel, "fit" | "evaluate" | "history">;
export type Layer = Network["layers"][number];

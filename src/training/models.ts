/**
 * The assignment's two convolutional networks in one call, built from
 * kerasLayers (the same layers, names, seeds and summary as the notebook's
 * model cells). For scripts and tests; the notebook writes the layers out.
 */
import { checkDropoutRate } from "../model/rules";
import { kerasLayers, type KerasSequential } from "./sequential";

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
  /** The model's name (Keras's "sequential" by default); building the same name again frees the previous model. */
  name?: string;
}

/**
 * Conv2D(32, 3×3, relu) → Conv2D(64, 3×3, relu) → MaxPool(2×2) → [Dropout]
 * → Flatten → Dense(128, relu) → [Dropout] → Dense(10, softmax): 1,199,882
 * parameters for 28×28×1 inputs. Layer names follow Keras's. The caller owns
 * the model: `model.dispose()` frees it.
 */
export function buildConvNet(options: ConvNetOptions = {}): KerasSequential {
  const { dropoutConv = 0, dropoutDense = 0, seed, inputShape = [28, 28, 1], numClasses = 10 } = options;
  checkDropoutRate("dropoutConv", dropoutConv);
  checkDropoutRate("dropoutDense", dropoutDense);
  const layers = kerasLayers(seed);
  const model = layers.sequential({ name: options.name });
  model.add(layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", inputShape }));
  model.add(layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: "relu" }));
  model.add(layers.maxPooling2d({ poolSize: [2, 2] }));
  if (dropoutConv > 0) model.add(layers.dropout({ rate: dropoutConv }));
  model.add(layers.flatten());
  model.add(layers.dense({ units: 128, activation: "relu" }));
  if (dropoutDense > 0) model.add(layers.dropout({ rate: dropoutDense }));
  model.add(layers.dense({ units: numClasses, activation: "softmax" }));
  return model;
}

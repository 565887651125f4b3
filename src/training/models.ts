/**
 * The assignment's convolutional networks in one call (and the notebook's
 * model 3, model 2 with augmentation in front), built from kerasLayers (the same layers, names, seeds and summary as
 * the notebook's
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
  /** Model 3's augmentation in front: rotation by up to ±18°, shifts and zoom by up to 10 % (the notebook's layers). */
  augment?: boolean;
}

/**
 * Conv2D(32, 3×3, relu) → Conv2D(64, 3×3, relu) → MaxPool(2×2) → [Dropout]
 * → Flatten → Dense(128, relu) → [Dropout] → Dense(10, softmax): 1,199,882
 * parameters for 28×28×1 inputs; with `augment`, RandomRotation(0.05),
 * RandomTranslation(0.1, 0.1) and RandomZoom(0.1) first. Layer names follow Keras's. The caller owns
 * the model: `model.dispose()` frees it.
 */
export function buildConvNet(options: ConvNetOptions = {}): KerasSequential {
  const { dropoutConv = 0, dropoutDense = 0, seed, inputShape = [28, 28, 1], numClasses = 10 } = options;
  checkDropoutRate("dropoutConv", dropoutConv);
  checkDropoutRate("dropoutDense", dropoutDense);
  const layers = kerasLayers(seed);
  const model = layers.sequential({ name: options.name });
  if (options.augment) {
    model.add(layers.randomRotation({ factor: 0.05, inputShape }));
    model.add(layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1 }));
    model.add(layers.randomZoom({ heightFactor: 0.1 }));
  }
  model.add(
    layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", ...(options.augment ? {} : { inputShape }) }),
  );
  model.add(layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: "relu" }));
  model.add(layers.maxPooling2d({ poolSize: [2, 2] }));
  if (dropoutConv > 0) model.add(layers.dropout({ rate: dropoutConv }));
  model.add(layers.flatten());
  model.add(layers.dense({ units: 128, activation: "relu" }));
  if (dropoutDense > 0) model.add(layers.dropout({ rate: dropoutDense }));
  model.add(layers.dense({ units: numClasses, activation: "softmax" }));
  return model;
}

"""One side of `npm run bench`: Keras 3 on TensorFlow trains the seed's model 1 or 2.

Same data (the first N MNIST training images, from the project's IDX files),
same layers, Adadelta(learning_rate=1.0), batch 128. Prints one JSON line:
milliseconds per step over the timed run, and the process's peak RSS. With
--e2e, the seed's whole training instead: both models (or those --models lists;
3 is model 2 with augmentation in front), 6 epochs, validation split 0.2, all
60,000 images, seeded with --seed, the seconds their fits took and each model's
test loss and accuracy. With --edits FILE, each edit of
that list (bench/edits.mjs writes it: kerasLayers' names and tfjs's arguments,
mapped here to Keras's), its ms/step and the timed fit's loss and accuracy.
"""
import argparse
import json
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import keras  # noqa: E402


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def build(dropout, seed, augment=False):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(shape=(28, 28, 1))]
    if augment:  # the notebook's model 3
        layers += [keras.layers.RandomRotation(0.05), keras.layers.RandomTranslation(0.1, 0.1), keras.layers.RandomZoom(0.1)]
    layers += [
        keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.MaxPool2D((2, 2)),
    ]
    if dropout:
        layers.append(keras.layers.Dropout(0.25))
    layers += [keras.layers.Flatten(), keras.layers.Dense(128, activation="relu")]
    if dropout:
        layers.append(keras.layers.Dropout(0.5))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adadelta(learning_rate=1.0), metrics=["accuracy"])
    return model


# kerasLayers' names, and tfjs-layers' argument names, as Keras calls them
KERAS_LAYERS = {
    "conv2d": "Conv2D", "dense": "Dense", "maxPooling2d": "MaxPooling2D", "averagePooling2d": "AveragePooling2D",
    "batchNormalization": "BatchNormalization", "dropout": "Dropout", "spatialDropout2d": "SpatialDropout2D",
    "flatten": "Flatten", "globalAveragePooling2d": "GlobalAveragePooling2D", "globalMaxPooling2d": "GlobalMaxPooling2D",
    "activation": "Activation", "reshape": "Reshape",
    "randomRotation": "RandomRotation", "randomTranslation": "RandomTranslation", "randomZoom": "RandomZoom",
    "randomFlip": "RandomFlip", "randomContrast": "RandomContrast",
}
KERAS_ARGUMENTS = {"kernelSize": "kernel_size", "poolSize": "pool_size", "dilationRate": "dilation_rate", "useBias": "use_bias", "targetShape": "target_shape",
                   "heightFactor": "height_factor", "widthFactor": "width_factor", "fillMode": "fill_mode", "fillValue": "fill_value", "valueRange": "value_range"}
KERAS_LOSSES = {"categoricalCrossentropy": "categorical_crossentropy", "sparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
                "meanSquaredError": "mean_squared_error", "binaryCrossentropy": "binary_crossentropy"}


def build_edit(edit):
    keras.utils.set_random_seed(42)
    layers = [keras.Input(shape=(28, 28, 1))]
    for kind, config in edit["layers"]:
        layers.append(getattr(keras.layers, KERAS_LAYERS[kind.removeprefix("tf.layers.")])(**{KERAS_ARGUMENTS.get(k, k): v for k, v in config.items()}))
    model = keras.Sequential(layers)
    model.compile(loss=KERAS_LOSSES[edit["loss"]], optimizer=keras.optimizers.Adadelta(learning_rate=1.0), metrics=["accuracy"])
    return model


def train_edits(path, x, y, args):
    with open(path) as f:
        edits = json.load(f)
    warm = args.warmup * args.batch_size
    result = {}
    for edit in edits:
        model = build_edit(edit)
        labels = np.argmax(y, axis=-1) if edit["loss"] == "sparseCategoricalCrossentropy" else y
        model.fit(x[:warm], labels[:warm], batch_size=args.batch_size, epochs=1, verbose=0)
        started = time.perf_counter()
        history = model.fit(x, labels, batch_size=args.batch_size, epochs=1, verbose=0)
        seconds = time.perf_counter() - started
        result[edit["name"]] = {"msPerStep": seconds * 1000 / args.steps, "loss": history.history["loss"][0], "accuracy": history.history["accuracy"][0]}
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["1", "2", "both"], required=True)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--e2e", action="store_true")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", required=True, help="folder with the MNIST IDX files")
    parser.add_argument("--edits", help="a JSON list of edits to train (bench/edits.mjs)")
    parser.add_argument("--models", default="1,2", help="with --e2e, the models to train: 1, 2, 3 (2 with augmentation)")
    args = parser.parse_args()

    n = None if args.e2e else args.steps * args.batch_size
    x = read_idx(os.path.join(args.data, "train-images-idx3-ubyte"))[:n].reshape(-1, 28, 28, 1).astype("float32") / 255
    y = keras.utils.to_categorical(read_idx(os.path.join(args.data, "train-labels-idx1-ubyte"))[:n], 10)
    if args.e2e:
        x_test = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte")).reshape(-1, 28, 28, 1).astype("float32") / 255
        y_test = keras.utils.to_categorical(read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte")), 10)
        fits, test = [], []
        for number in args.models.split(","):
            model = build(dropout=number in ("2", "3"), seed=args.seed, augment=number == "3")
            started = time.perf_counter()
            model.fit(x, y, batch_size=args.batch_size, epochs=6, verbose=0, validation_split=0.2)
            fits.append(time.perf_counter() - started)
            loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
            test.append({"loss": loss, "accuracy": accuracy})
        print(json.dumps({"seconds": sum(fits), "fits": fits, "test": test, "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        return
    if args.edits:
        edits = train_edits(args.edits, x, y, args)
        print(json.dumps({"edits": edits, "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        return
    model = build(dropout=args.model == "2", seed=42)
    warm = args.warmup * args.batch_size
    model.fit(x[:warm], y[:warm], batch_size=args.batch_size, epochs=1, verbose=0)
    started = time.perf_counter()
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "msPerStep": seconds * 1000 / args.steps,
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()

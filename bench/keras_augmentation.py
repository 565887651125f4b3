"""Keras 3's random image layers on fixed images under fixed transformations: the
reference outputs of test/unit/augmentation.test.ts. Run with the bench's venv:
.venv-bench/bin/python bench/keras_augmentation.py > test/fixtures/keras-augmentation.json
Each case calls the layer's own transform_images with a transformation built by
hand, as get_random_transformation would draw it.
"""
import json
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
import numpy as np

rng = np.random.default_rng(7)
# Two 12x10 images with two channels: not square, not one channel, so an axis mix-up shows.
images = np.round(rng.uniform(0, 1, (2, 12, 10, 2)), 3).astype("float32")
cases = []


def case(name, layer, transformation, parameters):
    out = keras.ops.convert_to_numpy(layer.transform_images(images, transformation, training=True))
    cases.append({"name": name, "layer": layer.__class__.__name__, "config": parameters["config"],
                  "parameters": parameters["given"], "output": np.round(out, 6).flatten().tolist()})


def rotation_matrix(layer, degrees):
    angle = np.array(degrees, dtype="float32")
    zeros, ones = np.zeros(2, "float32"), np.ones(2, "float32")
    return layer._compute_affine_matrix(0.5, 0.5, angle, zeros, zeros, ones, zeros, zeros, 12, 10)


degrees = [30.0, -12.5]
for fill in ["reflect", "wrap", "constant", "nearest"]:
    for interpolation in ["bilinear", "nearest"]:
        layer = keras.layers.RandomRotation(0.1, fill_mode=fill, interpolation=interpolation, fill_value=0.3)
        case(f"rotation {fill} {interpolation}", layer, {"rotation_matrix": rotation_matrix(layer, degrees)},
             {"config": {"factor": 0.1, "fillMode": fill, "interpolation": interpolation, "fillValue": 0.3}, "given": {"degrees": degrees}})

# translations: [width pixels, height pixels] per image
translations = np.array([[2.5, -1.5], [-3.0, 4.0]], dtype="float32")
for fill in ["reflect", "constant"]:
    layer = keras.layers.RandomTranslation(0.5, 0.5, fill_mode=fill)
    case(f"translation {fill}", layer, {"translations": translations},
         {"config": {"heightFactor": 0.5, "widthFactor": 0.5, "fillMode": fill}, "given": {"down": [-1.5, 4.0], "right": [2.5, -3.0]}})

height_zoom = np.array([[0.8], [1.25]], dtype="float32")
width_zoom = np.array([[1.1], [0.9]], dtype="float32")
for fill in ["reflect", "nearest"]:
    layer = keras.layers.RandomZoom(0.3, 0.3, fill_mode=fill)
    case(f"zoom {fill}", layer, {"height_zoom": height_zoom, "width_zoom": width_zoom},
         {"config": {"heightFactor": 0.3, "widthFactor": 0.3, "fillMode": fill}, "given": {"heightZoom": [0.8, 1.25], "widthZoom": [1.1, 0.9]}})

flips = np.array([True, False]).reshape(2, 1, 1, 1)
for mode in ["horizontal", "vertical", "horizontal_and_vertical"]:
    layer = keras.layers.RandomFlip(mode)
    case(f"flip {mode}", layer, {"flips": flips}, {"config": {"mode": mode}, "given": {"flips": [True, False]}})

factors = np.array([0.5, 1.7], dtype="float32").reshape(2, 1, 1, 1)
layer = keras.layers.RandomContrast(0.9, value_range=(0, 1))
case("contrast", layer, {"contrast_factor": factors}, {"config": {"factor": 0.9, "valueRange": [0, 1]}, "given": {"factors": [0.5, 1.7]}})

# What Keras draws from a single contrast factor: [1 - lower, 1 + upper] with lower 0.
drawn = keras.ops.convert_to_numpy(keras.layers.RandomContrast(0.2, seed=1).get_random_transformation(np.zeros((4000, 2, 2, 1), "float32"))["contrast_factor"])
print(json.dumps({"images": images.flatten().tolist(), "shape": list(images.shape), "cases": cases,
                  "contrastFactor02": [round(float(drawn.min()), 4), round(float(drawn.max()), 4)]}))

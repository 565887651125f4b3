"""Keras 3's value of each loss the engine computes, on one fixed batch: the reference
figures of test/unit/losses.test.ts. Run with the bench's venv: .venv-bench/bin/python bench/keras_losses.py
"""
import os, json
os.environ["TF_CPP_MIN_LOG_LEVEL"]="3"
import numpy as np, keras
z = np.array([[2.0, -1.0, 0.5, 0.0], [-3.0, 4.0, 1.0, -0.5], [0.1, 0.2, -0.3, 8.0]], dtype="float32")
onehot = np.array([[1,0,0,0],[0,0,1,0],[0,0,0,1]], dtype="float32")
ids = np.array([0, 2, 3])
multi = np.array([[1,0,1,0],[0,1,1,0],[0,0,0,1]], dtype="float32")
soft = keras.activations.softmax(z).numpy()
sig = keras.activations.sigmoid(z).numpy()
relu = np.maximum(z, 0)
out = {}
def per(loss, yt, yp):
    return [float(v) for v in keras.losses.get(loss)(yt, yp).numpy()]
out["cce_softmax"] = per("categorical_crossentropy", onehot, keras.layers.Activation("softmax")(z))
out["sparse_softmax"] = per("sparse_categorical_crossentropy", ids, keras.layers.Activation("softmax")(z))
out["cce_relu_output"] = per("categorical_crossentropy", onehot, relu)
out["sparse_relu_output"] = per("sparse_categorical_crossentropy", ids, relu)
out["mse_softmax"] = per("mean_squared_error", onehot, soft)
out["bce_sigmoid"] = per("binary_crossentropy", multi, keras.layers.Activation("sigmoid")(z))
out["bce_softmax_output"] = per("binary_crossentropy", multi, soft)
print(json.dumps(out))

"""Weight copying between NumPy and Keras (imports TensorFlow: about 8 s)."""
import numpy as np
import pytest

import dlcourse
from dlcourse import twins


@pytest.fixture(scope="module")
def keras():
    dlcourse.setup(seed=0, keras=True)
    import keras
    return keras


def test_roundtrip_and_same_outputs(keras):
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
    params = [(rng.normal(size=(4, 3)), rng.normal(size=3)), (rng.normal(size=(3, 2)), rng.normal(size=2))]
    twins.set_dense_weights(model, params)
    back = twins.get_dense_weights(model)
    assert twins.max_abs_diff([p for pair in params for p in pair], [p for pair in back for p in pair]) < 1e-6
    x = rng.normal(size=(5, 4))
    (W1, b1), (W2, b2) = params
    numpy_out = np.maximum(x @ W1 + b1, 0) @ W2 + b2
    assert twins.max_abs_diff(model.predict(x.astype("float32"), verbose=0), numpy_out) < 1e-4


def test_wrong_shapes_are_named(keras):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"layer 0 \(.*\) expects weight shapes \[\(4, 3\), \(3,\)\], got \[\(3, 4\), \(3,\)\]"):
        twins.set_dense_weights(model, [(np.zeros((3, 4)), np.zeros(3))])
    with pytest.raises(ValueError, match="got 2 \\(W, b\\) pairs for a model with 1 layers"):
        twins.set_dense_weights(model, [(np.zeros((4, 3)), np.zeros(3))] * 2)
    with pytest.raises(ValueError, match="cannot compare shapes"):
        twins.max_abs_diff(np.zeros(2), np.zeros(3))

"""What the served model's layers say: why-maps, the penultimate layer, the first layer's weights.

Runs in the trainer/model process only; Keras (and so TensorFlow) is imported inside
the functions, never at module level. :class:`~mnist_tui.worker.served.ServedModel`
builds these once per model and answers the requests with them.

What a model cannot do (no hidden layer, say) raises :class:`ExplainError`, whose
message reaches the UI as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..analysis import integrated_gradients
from ..datasets import MNIST
from ..events import LayerWeights


class ExplainError(Exception):
    """A view cannot be computed for this model; the message says why, for a person.

    ``strerror`` makes the model server send the message without the exception's type name.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.strerror = message


MultiGradientFn = Callable[[np.ndarray, Sequence[int]], np.ndarray]
"""``grads(batch, classes)``: ``(len(classes), *batch.shape)``, one forward pass for every class."""


def gradient_function(score: Callable[[Any], Any], input_shape: tuple[int, ...]) -> MultiGradientFn:
    """Gradients of several classes' scores for one batch, with the backend's own API.

    The one place that knows how each Keras backend differentiates: ``tf.GradientTape``
    on TensorFlow, ``jax.vjp`` on JAX. The forward pass is shared by the classes (a
    mistake's why-maps explain two), which saves about a fifth of the time for two.

    Args:
        score: maps a batch shaped ``(b, *input_shape)`` to per-class scores.
        input_shape: the model's input shape without the batch axis.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def traced(count: int) -> Any:
            """The gradient function for ``count`` classes (a Python loop needs its length when traced)."""

            @tf.function(reduce_retracing=True)
            def tf_grads(x: Any, classes: Any) -> Any:
                with tf.GradientTape(persistent=True) as tape:
                    tape.watch(x)
                    scores = score(x)
                    totals = [tf.reduce_sum(scores[:, classes[i]]) for i in range(count)]
                return tf.stack([tape.gradient(total, x) for total in totals])

            return tf_grads

        functions: dict[int, Any] = {}

        def grads(batch: np.ndarray, classes: Sequence[int]) -> np.ndarray:
            x = tf.constant(batch.reshape((len(batch), *input_shape)), tf.float32)
            tf_grads = functions.get(len(classes)) or functions.setdefault(len(classes), traced(len(classes)))
            out = tf_grads(x, tf.constant(list(classes), tf.int32))
            return np.asarray(out).reshape((len(classes), *batch.shape))

        return grads
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        @jax.jit
        def jax_grads(x: Any, classes: Any) -> Any:
            scores, pull_back = jax.vjp(score, x)
            return jnp.stack([pull_back(jnp.zeros_like(scores).at[:, c].set(1.0))[0] for c in classes])

        def grads(batch: np.ndarray, classes: Sequence[int]) -> np.ndarray:
            x = batch.reshape((len(batch), *input_shape)).astype(np.float32)
            return np.asarray(jax_grads(x, tuple(int(c) for c in classes))).reshape((len(classes), *batch.shape))

        return grads
    raise ExplainError(f"Why-maps are not available on the {backend} backend (only tensorflow and jax).")


def classifier_head(keras_model: Any) -> tuple[Any, bool]:
    """The layer that produces the class scores, and whether a softmax follows it inside the model.

    Walks back from the output past a ``Softmax`` layer or a softmax ``Activation``.
    """
    import keras

    layer = keras_model.layers[-1]
    if isinstance(layer, keras.layers.Softmax) or (
        isinstance(layer, keras.layers.Activation) and getattr(layer.activation, "__name__", "") == "softmax"
    ):
        return _inbound_layer(layer), True
    return layer, getattr(getattr(layer, "activation", None), "__name__", "") == "softmax"


def penultimate_model(keras_model: Any) -> Any:
    """A functional model from the input to the penultimate layer's output (the classifying Dense's input).

    The one embedding the why-maps' neighbours, the nearest training images and the map share.

    Raises:
        ExplainError: the model has no hidden layer, or its layers are not a graph Keras can cut.
    """
    import keras

    try:
        head, _ = classifier_head(keras_model)
    except (AttributeError, IndexError, ValueError) as exc:
        raise ExplainError(f"This model's layers cannot be read as a graph ({type(exc).__name__}).") from None
    if not isinstance(head, keras.layers.Dense):
        ends = type(head).__name__ if head is not None else "layers that cannot be traced back"
        raise ExplainError(
            f"This model ends with {ends}, not a Dense layer: there is no penultimate layer to compare images in."
        )
    layers = keras_model.layers
    before = layers[: layers.index(head)] if head in layers else []
    if not any(layer.weights for layer in before):
        raise ExplainError(
            "This model has no hidden layer: its output reads the pixels directly, "
            "so there is no learned space to compare images in."
        )
    return keras.Model(keras_model.inputs[0], _layer_input(head))


def first_layer_weights(keras_model: Any) -> LayerWeights:
    """The first Dense layer over the pixels, or the first Conv2D, and the next layer's kernel.

    Raises:
        ExplainError: no such layer (the message says what the model has instead).
    """
    layers = list(getattr(keras_model, "layers", []))
    kernels: list[tuple[Any, np.ndarray]] = []
    for layer in layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None:
            kernels.append((layer, np.asarray(kernel)))
    for i, (layer, kernel) in enumerate(kernels):
        dense = kernel.ndim == 2 and kernel.shape[0] == MNIST.pixels
        if dense or kernel.ndim == 4:
            units = kernel.shape[-1]
            following = kernels[i + 1][1] if i + 1 < len(kernels) else None
            fits = following is not None and following.shape[-2 if following.ndim == 4 else 0] == units
            return LayerWeights(
                kind="dense" if dense else "conv",
                layer=layer.name,
                kernel=kernel.astype(np.float32),
                next_kernel=following.astype(np.float32) if fits and following is not None else None,
            )
    names = ", ".join(type(layer).__name__ for layer in layers) or "no layers"
    raise ExplainError(
        f"no Dense layer over the {MNIST.pixels} pixels and no Conv2D layer to show (the model has {names})"
    )


class Explainer:
    """Why-maps of one model: its gradient function, traced when first asked and kept.

    Args:
        keras_model: the served model; it takes scaled images (``[0, 1]``).
    """

    def __init__(self, keras_model: Any) -> None:
        self.model = keras_model
        self.input_shape = tuple(keras_model.inputs[0].shape[1:])
        self._grads: MultiGradientFn | None = None

    def score(self) -> Callable[[Any], Any]:
        """The class scores to explain: the logits where the model's softmax can be peeled off.

        A logit does not saturate the way a probability does near 0 and 1, so its
        integrated gradients say more about confident predictions. A model whose output
        is not a recognisable softmax is explained through its output as it is.
        """
        import keras

        head, softmax = classifier_head(self.model)
        if not softmax or head is None:
            return lambda x: self.model(x, training=False)
        if isinstance(head, keras.layers.Dense) and head is self.model.layers[-1]:
            features = keras.Model(self.model.inputs[0], _layer_input(head))
            kernel, bias = head.kernel, head.bias

            def logits(x: Any) -> Any:
                out = keras.ops.matmul(features(x, training=False), kernel)
                return out if bias is None else out + bias

            return logits
        return keras.Model(self.model.inputs[0], head.output)

    def grads(self) -> MultiGradientFn:
        if self._grads is None:
            self._grads = gradient_function(self.score(), self.input_shape)
        return self._grads

    def why(self, image: np.ndarray, classes: Sequence[int], steps: int = 32) -> np.ndarray:
        """Integrated-gradients maps of one uint8 image: ``(len(classes), height, width)`` float32."""
        x = np.asarray(image, np.float32) / 255.0
        if x.shape != MNIST.image_shape:
            raise ExplainError(f"expected one {MNIST.height}x{MNIST.width} image, got shape {np.asarray(image).shape}")
        classes = [int(c) for c in classes]
        multi = self.grads()
        shared: dict[str, Any] = {}

        def grads(batch: np.ndarray, class_index: int) -> np.ndarray:
            # every class walks the same path: its gradients are computed once, for all of them
            if "path" not in shared or not np.array_equal(shared["path"], batch):
                shared["path"], shared["grads"] = batch, dict(zip(classes, multi(batch, classes)))
            return shared["grads"][class_index]

        return np.stack([integrated_gradients(grads, x, c, steps) for c in classes]).astype(np.float32)


def _inbound_layer(layer: Any) -> Any:
    """The layer whose output feeds ``layer``, or ``None`` when that is not one layer."""
    try:
        history = layer.input._keras_history
    except (AttributeError, ValueError):
        return None
    return history.operation if history is not None else None


def _layer_input(layer: Any) -> Any:
    try:
        return layer.input
    except (AttributeError, ValueError) as exc:
        raise ExplainError(f"The model's {layer.name} layer has no single input to cut the model at ({exc}).") from None

"""Model-process requests that explain predictions (why-maps, embeddings, nearest training images).

Runs in the trainer/model process only; Keras (and so TensorFlow) is imported inside
the functions, never at module level, because the UI process imports :mod:`.child`.
Each entry of ``HANDLERS`` maps a request op to ``handler(model, *args)``, ``model``
being the served ``training.TrainedModel``:

- ``why(image, classes, steps=32)``: integrated-gradients maps, ``(len(classes), 28, 28)`` float32.
- ``embed(images)``: penultimate-layer outputs, ``(n, d)`` float32.
- ``neighbours_prepare(data_path, chunk=5000)``: embed the next chunk of the training
  images; returns ``(done, total)``. Small steps keep the pipe free for other requests.
- ``neighbours(image, k=6, data_path=None)``: the ``k`` nearest training images by cosine
  similarity, as a dict of ``indices``, ``similarities``, ``labels`` and ``images``.

What a model cannot do (no hidden layer, say) raises :class:`ExplainError`, whose
message reaches the UI as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..analysis import NeighbourIndex, integrated_gradients

EMBED_BATCH = 1000
PREPARE_CHUNK = 5000
ALL = 10**9  # a chunk that takes every training image at once


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


class Explainer:
    """What the explanation requests need from one model, built when first asked and kept.

    Args:
        keras_model: the served model; it takes scaled images (``[0, 1]``).
    """

    def __init__(self, keras_model: Any) -> None:
        self.model = keras_model
        self.input_shape = tuple(keras_model.inputs[0].shape[1:])
        self._grads: MultiGradientFn | None = None
        self._embedder: Any = None
        self.training: tuple[str | None, np.ndarray, np.ndarray] | None = None  # (data path, images, labels)
        self._train_embeddings: list[np.ndarray] = []
        self._index: NeighbourIndex | None = None

    # ------------------------------------------------------------------ the model's structure

    def _head(self) -> tuple[Any, bool]:
        """The layer that produces the class scores, and whether a softmax follows it inside the model.

        Walks back from the output past a ``Softmax`` layer or a softmax ``Activation``.
        """
        import keras

        layer = self.model.layers[-1]
        if isinstance(layer, keras.layers.Softmax) or (
            isinstance(layer, keras.layers.Activation) and getattr(layer.activation, "__name__", "") == "softmax"
        ):
            return _inbound_layer(layer), True
        return layer, getattr(getattr(layer, "activation", None), "__name__", "") == "softmax"

    def score(self) -> Callable[[Any], Any]:
        """The class scores to explain: the logits where the model's softmax can be peeled off.

        A logit does not saturate the way a probability does near 0 and 1, so its
        integrated gradients say more about confident predictions. A model whose output
        is not a recognisable softmax is explained through its output as it is.
        """
        import keras

        head, softmax = self._head()
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

    def embedder(self) -> Any:
        """A functional model from the input to the penultimate layer's output (the final Dense's input).

        Raises:
            ExplainError: the model has no hidden layer, or its layers are not a graph Keras can cut.
        """
        if self._embedder is None:
            import keras

            head, _ = self._head()
            if not isinstance(head, keras.layers.Dense):
                ends = type(head).__name__ if head is not None else "layers that cannot be traced back"
                raise ExplainError(
                    f"Nearest training images need a model whose last layer is Dense; this one ends with {ends}."
                )
            layers = self.model.layers
            before = layers[: layers.index(head)] if head in layers else []
            if not any(layer.weights for layer in before):
                raise ExplainError(
                    "This model has no hidden layer: its output reads the pixels directly, "
                    "so there is no learned space to compare images in."
                )
            self._embedder = keras.Model(self.model.inputs[0], _layer_input(head))
        return self._embedder

    # ------------------------------------------------------------------ requests

    def why(self, image: np.ndarray, classes: list[int], steps: int = 32) -> np.ndarray:
        x = _scaled(image)
        if x.shape != (28, 28):
            raise ExplainError(f"expected one 28x28 image, got shape {np.asarray(image).shape}")
        classes = [int(c) for c in classes]
        multi, shared = self.grads(), {}

        def grads(batch: np.ndarray, class_index: int) -> np.ndarray:
            # every class walks the same path: its gradients are computed once, for all of them
            if "path" not in shared or not np.array_equal(shared["path"], batch):
                shared["path"], shared["grads"] = batch, dict(zip(classes, multi(batch, classes)))
            return shared["grads"][class_index]

        return np.stack([integrated_gradients(grads, x, c, steps) for c in classes]).astype(np.float32)

    def embed(self, images: np.ndarray) -> np.ndarray:
        embedder = self.embedder()
        x = _scaled(images)
        out = [
            np.asarray(embedder(x[i : i + EMBED_BATCH].reshape((-1, *self.input_shape)), training=False))
            for i in range(0, len(x), EMBED_BATCH)
        ]
        flat = [o.reshape(len(o), -1) for o in out]
        return np.concatenate(flat).astype(np.float32) if flat else np.zeros((0, 0), np.float32)

    def prepare(self, data_path: str | None, chunk: int = PREPARE_CHUNK) -> tuple[int, int]:
        """Embed the next ``chunk`` training images; ``(done, total)`` afterwards."""
        self.embedder()  # says why before any data is loaded
        if self.training is None or self.training[0] != data_path:
            self.training = (data_path, *_load_training(data_path))
            self._train_embeddings, self._index = [], None
        _, images, _ = self.training
        if self._index is not None:
            return len(images), len(images)
        done = sum(len(e) for e in self._train_embeddings)
        if done < len(images):
            self._train_embeddings.append(self.embed(images[done : done + max(int(chunk), 1)]))
            done = sum(len(e) for e in self._train_embeddings)
        if done >= len(images) and self._index is None:
            embeddings = self._train_embeddings or [np.zeros((0, 1), np.float32)]
            self._index = NeighbourIndex(np.concatenate(embeddings))
            self._train_embeddings = []
        return done, len(images)

    def neighbours(self, image: np.ndarray, k: int = 6, data_path: str | None = None) -> dict[str, np.ndarray]:
        if self._index is None or self.training is None or self.training[0] != data_path:
            self.prepare(data_path, chunk=ALL)
        if self._index is None:
            raise ExplainError("There are no training images to compare with.")
        query = self.embed(np.asarray(image)[None])[0]
        found = self._index.query(query, int(k))
        _, images, labels = self.training
        return {
            "indices": found.indices,
            "similarities": found.similarities,
            "labels": labels[found.indices].astype(np.int64),
            "images": images[found.indices],
        }


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


def _scaled(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    return images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images.astype(np.float32)


def _load_training(data_path: str | None) -> tuple[np.ndarray, np.ndarray]:
    from ..data import load_mnist

    try:
        data = load_mnist(data_path)
    except Exception as exc:
        raise ExplainError(f"The training images could not be loaded: {exc}") from None
    return data.x_train, data.y_train


def explainer(model: Any) -> Explainer:
    """The :class:`Explainer` of a served ``TrainedModel``, kept on it."""
    cached = getattr(model, "explainer", None)
    if cached is None:
        cached = Explainer(model.model)
        model.explainer = cached
    return cached


HANDLERS: dict[str, Callable[..., Any]] = {
    "why": lambda model, image, classes, steps=32: explainer(model).why(image, list(classes), int(steps)),
    "embed": lambda model, images: explainer(model).embed(images),
    "neighbours_prepare": lambda model, data_path=None, chunk=PREPARE_CHUNK: explainer(model).prepare(data_path, chunk),
    "neighbours": lambda model, image, k=6, data_path=None: explainer(model).neighbours(image, k, data_path),
}

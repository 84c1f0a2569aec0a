"""Model-process requests that explain predictions (why-maps, embeddings, nearest training images).

Runs in the trainer/model process only; TensorFlow is imported inside the handlers.
Each entry of ``HANDLERS`` maps a request op to ``handler(model, *args)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HANDLERS: dict[str, Callable[..., Any]] = {}

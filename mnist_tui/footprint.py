"""What training a model needs in memory, from its :class:`~mnist_tui.config.TrainConfig` alone, and what the system has.

The trainer compares the two before it loads the data or Keras, so a model that cannot fit
(``--hidden-units 3000000``: 2.4 billion parameters) is refused at once with the same
"Out of memory while building the model" message TensorFlow's own failed allocation gives,
instead of growing until the kernel kills the process. Standard library only: the
architectures' shapes are mirrored here (``tests/unit/test_footprint.py`` checks the
parameter counts against Keras's ``count_params``).

The estimate is a floor, not a forecast: TensorFlow's own runtime (several hundred MB)
and its allocator's slack come on top, so a model that passes may still run out of memory,
but one that is refused never had a chance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .config import TrainConfig
from .datasets import MNIST, Dataset

FLOAT_BYTES = 4
"""Weights, optimizer slots and activations are float32 (mixed precision keeps float32 weights)."""
STATE_COPIES = 4
"""Per parameter: the weight, its gradient and Adam's two moment slots."""
CNN_FILTERS = (32, 64)
"""The CNN's two 5x5 convolutions (``models._build``), each followed by a 2x2 max-pool."""
CNN_KERNEL = 5


@dataclass(frozen=True)
class Footprint:
    """Bytes a run needs, by what needs them."""

    params: int
    """The model's parameters (as Keras's ``count_params``)."""
    model_bytes: int
    """Weights, gradients and Adam's two slots: ``4 x params x 4`` bytes."""
    activation_bytes: int
    """The layers' outputs at the training batch (and their gradients), or at the scoring batch."""
    data_bytes: int
    """The images as read (uint8) and scaled to float32 for training and scoring."""

    @property
    def total(self) -> int:
        return self.model_bytes + self.activation_bytes + self.data_bytes


def parameter_count(config: TrainConfig, dataset: Dataset = MNIST) -> int:
    """The parameters of the model ``config.arch`` describes: what Keras's ``count_params`` says once it is built."""
    classes = dataset.num_classes
    if config.arch == "cnn":
        first, second = CNN_FILTERS
        kernel = CNN_KERNEL * CNN_KERNEL
        convolutions = (kernel * 1 * first + first) + (kernel * first * second + second)
        flat = (dataset.height // 2 // 2) * (dataset.width // 2 // 2) * second
        return convolutions + flat * config.hidden_units + config.hidden_units + config.hidden_units * classes + classes
    return dataset.pixels * config.hidden_units + config.hidden_units + config.hidden_units * classes + classes


def activations_per_image(config: TrainConfig, dataset: Dataset = MNIST) -> int:
    """Floats the forward pass keeps for one image: every layer's output (dropout's mask too)."""
    pixels, classes, hidden = dataset.pixels, dataset.num_classes, config.hidden_units
    head = 3 * hidden + 2 * classes  # dense output, dropout's mask and output; logits and softmax
    if config.arch == "cnn":
        first, second = CNN_FILTERS
        h, w = dataset.height, dataset.width
        body = h * w * first + (h // 2) * (w // 2) * (first + second) + 2 * (h // 4) * (w // 4) * second
        return 2 * pixels + body + head  # the input and its reshape, the convolutions, pools and flatten
    return 2 * pixels + head  # the input and its flattened copy


def estimate(config: TrainConfig, scoring_batch: int = 1000, dataset: Dataset = MNIST) -> Footprint:
    """What training ``config`` needs at least, in bytes (see :class:`Footprint`).

    Args:
        config: The architecture, its width, the batch size and the training limit.
        scoring_batch: Images per step when the test set is scored (the trainer's
            ``VALIDATION_BATCH``): a forward pass only, but often a larger batch.
        dataset: The images' shape, the classes and the splits' sizes.
    """
    params = parameter_count(config, dataset)
    per_image = activations_per_image(config, dataset) * FLOAT_BYTES
    activations = max(2 * config.batch_size * per_image, scoring_batch * per_image)  # backward: one gradient each
    train = dataset.size_of("train")
    if config.train_limit is not None:
        train = min(train, config.train_limit)
    images = train + dataset.size_of("test")
    return Footprint(
        params=params,
        model_bytes=STATE_COPIES * params * FLOAT_BYTES,
        activation_bytes=activations,
        data_bytes=images * dataset.pixels * (1 + FLOAT_BYTES),
    )


def available_memory(meminfo: Path = Path("/proc/meminfo"), cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes this process may still take: the kernel's ``MemAvailable``, or less where a cgroup limits it.

    ``None`` where neither can be read (not Linux): then nothing is refused.
    """
    found: list[int] = []
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            found.append(max(0, int(limit) - int((cgroup / "memory.current").read_text().strip())))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def gigabytes(size: int) -> str:
    """``38.2 GB``, ``740 MB``."""
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def too_large(config: TrainConfig, scoring_batch: int = 1000, available: int | None = None) -> str | None:
    """The reason a run of ``config`` cannot fit in memory (``"38.2 GB needed, 23.6 GB available"``), else None.

    ``available`` defaults to :func:`available_memory`; when that is unknown nothing is refused.
    ``MNIST_TUI_MEMORY_CHECK=0`` turns the check off (for a machine whose overcommit or swap
    the estimate does not know).
    """
    if os.environ.get("MNIST_TUI_MEMORY_CHECK") == "0":
        return None
    if available is None:
        available = available_memory()
    if available is None:
        return None
    needed = estimate(config, scoring_batch).total
    if needed <= available:
        return None
    return f"{gigabytes(needed)} needed, {gigabytes(available)} available"

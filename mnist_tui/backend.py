"""Which Keras backend and which numeric precision a run uses, and why.

The choices are pure functions of what they are given (the requested option, the
architecture, the CPU's feature flags, the GPUs the backend sees), so they are tested
without Keras. :func:`prepare` applies the backend choice to this process: Keras reads
``KERAS_BACKEND`` once, when it is first imported, and JAX reads its XLA flags once,
when it starts, so both are set before either is imported.

Nothing here imports Keras, TensorFlow or JAX at module level: the UI process may
import this module.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BACKENDS = ("tensorflow", "jax")
"""The Keras backends mnist-tui runs on (``--backend``, ``KERAS_BACKEND``)."""
BACKEND_CHOICES = (*BACKENDS, "auto")
PRECISIONS = ("auto", "float32", "bfloat16", "float16")
"""``--precision``: ``auto`` picks per architecture and hardware, the others force a policy."""

# Keras dtype policy per precision: weights stay float32 in the mixed policies, only the
# computation runs in 16 bits; the output layer and the loss stay float32 throughout.
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}

# CPU feature flags (as Linux names them in /proc/cpuinfo) that compute bfloat16 natively,
# best first. Without one, bfloat16 is emulated and slower than float32.
CPU_BFLOAT16 = {"amx_bf16": "AMX", "avx512_bf16": "AVX512-BF16"}

# Tensor cores arrived with compute capability 7.0 (Volta); they make float16 fast.
TENSOR_CORE_CAPABILITY = (7, 0)

# The fastest backend per architecture when both are installed (benchmarks/peers.py):
# the MLP is dispatch-bound at batch 32, where JAX's compiled step is about 3x cheaper
# than TensorFlow's; the CNN's convolutions run 2.5x faster on TensorFlow (oneDNN).
AUTO_BACKEND = {"mlp": "jax", "cnn": "tensorflow"}

# XLA flags per architecture on JAX's CPU backend, read once when JAX starts; None keeps
# XLA's defaults. One thread per op (``--xla_cpu_multi_thread_eigen=false
# intra_op_parallelism_threads=1``), which speeds up the MLP on TensorFlow, made the MLP
# about 10% slower on JAX on 2 cores (3 epochs, 2 alternating rounds: 16.7/17.9 s default,
# 18.3/19.7 s with the flags), so none are set.
JAX_CPU_FLAGS: dict[str, str | None] = {"mlp": None, "cnn": None}


class BackendError(Exception):
    """The requested backend cannot run in this process (not installed, unknown, or Keras already loaded)."""


@dataclass(frozen=True)
class Gpu:
    """A GPU as the backend reports it.

    Attributes:
        name: The device's name, e.g. ``"NVIDIA H100 80GB HBM3"``.
        capability: CUDA compute capability ``(major, minor)``; None when unknown or not NVIDIA.
    """

    name: str
    capability: tuple[int, int] | None = None

    @property
    def tensor_cores(self) -> bool:
        """Whether float16 matrix work runs on tensor cores (NVIDIA, compute capability 7.0 or newer)."""
        return self.capability is not None and self.capability >= TENSOR_CORE_CAPABILITY


@dataclass(frozen=True)
class Choice:
    """A resolved option: its value, and why it was chosen when that was not the person's explicit ask.

    Attributes:
        value: ``"tensorflow"``/``"jax"`` for a backend, ``"float32"``/``"bfloat16"``/``"float16"``
            for a precision.
        reason: ``"auto: AMX"``, ``"KERAS_BACKEND"``, ... or empty when asked for by name.
    """

    value: str
    reason: str = ""

    @property
    def label(self) -> str:
        """What ran, for people: ``"bfloat16 (auto: AMX)"``, ``"jax"``."""
        return f"{self.value} ({self.reason})" if self.reason else self.value

    @property
    def policy(self) -> str:
        """The Keras dtype policy of a precision choice."""
        return POLICIES[self.value]


# ----------------------------------------------------------------------------- precision


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (the first ``flags`` line of ``/proc/cpuinfo``); empty where unreadable."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as lines:
            for line in lines:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def native_bfloat16(flags: Collection[str]) -> str | None:
    """The CPU unit that computes bfloat16 natively (``"AMX"``, ``"AVX512-BF16"``), or None."""
    return next((unit for flag, unit in CPU_BFLOAT16.items() if flag in flags), None)


def resolve_precision(requested: str, arch: str, *, flags: Collection[str], gpus: Sequence[Gpu]) -> Choice:
    """The precision a run uses.

    ``auto`` picks float16 for the CNN on NVIDIA GPUs with tensor cores, bfloat16 for the
    CNN on CPUs that compute it natively, and float32 otherwise (the MLP is dispatch-bound:
    16-bit arithmetic does not speed it up).

    Args:
        requested: ``auto``, ``float32``, ``bfloat16`` or ``float16``.
        arch: ``mlp`` or ``cnn``.
        flags: The CPU's feature flags (:func:`cpu_flags`).
        gpus: The GPUs the backend trains on (:func:`visible_gpus`); empty on a CPU.
    """
    if requested != "auto":
        if requested not in POLICIES:
            raise ValueError(f"unknown precision {requested!r}")
        return Choice(requested)
    if arch != "cnn":
        return Choice("float32", "auto")
    if gpus:
        if all(gpu.tensor_cores for gpu in gpus):
            return Choice("float16", "auto: tensor cores")
        return Choice("float32", "auto: no tensor cores")
    unit = native_bfloat16(flags)
    if unit is not None:
        return Choice("bfloat16", f"auto: {unit}")
    return Choice("float32", "auto: no native bfloat16")


def visible_gpus(backend: str) -> list[Gpu]:
    """The GPUs ``backend`` trains on, read from the backend itself (imports it: call after :func:`prepare`)."""
    if backend == "jax":
        import jax

        gpus = []
        for device in jax.devices():
            if device.platform != "gpu":
                continue
            gpus.append(Gpu(str(device.device_kind), parse_capability(getattr(device, "compute_capability", None))))
        return gpus
    import tensorflow as tf

    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details: dict[str, Any] = tf.config.experimental.get_device_details(device)
        gpus.append(
            Gpu(str(details.get("device_name", device.name)), parse_capability(details.get("compute_capability")))
        )
    return gpus


def parse_capability(value: object) -> tuple[int, int] | None:
    """``(9, 0)`` or ``"9.0"`` (CUDA's compute capability) -> ``(9, 0)``; None for anything else (not NVIDIA)."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            return int(value[0]), int(value[1])
        except (TypeError, ValueError):
            return None
    if isinstance(value, str):
        major, _, minor = value.partition(".")
        if major.isdigit() and minor.isdigit():
            return int(major), int(minor)
    return None


# ----------------------------------------------------------------------------- backend


def installed_backends() -> tuple[str, ...]:
    """The supported backends whose package is installed (found, not imported)."""
    return tuple(name for name in BACKENDS if importlib.util.find_spec(name) is not None)


def resolve_backend(
    requested: str | None, arch: str, *, environ: Mapping[str, str], installed: Collection[str]
) -> Choice:
    """The Keras backend a run uses.

    Args:
        requested: ``tensorflow``, ``jax``, ``auto`` (the fastest installed for ``arch``), or
            None: ``KERAS_BACKEND`` if set, else TensorFlow.
        arch: ``mlp`` or ``cnn``.
        environ: The process environment (for ``KERAS_BACKEND``).
        installed: The backends installed (:func:`installed_backends`).

    Raises:
        BackendError: the backend is unknown or not installed.
    """
    reason = ""
    if requested is None:
        name = environ.get("KERAS_BACKEND", "").strip().lower()
        if not name:
            return Choice("tensorflow")
        reason = "KERAS_BACKEND"
        if name not in BACKENDS:
            raise BackendError(f"KERAS_BACKEND={name} is not supported by mnist-tui (choose {' or '.join(BACKENDS)})")
    elif requested == "auto":
        name = AUTO_BACKEND.get(arch, "tensorflow")
        if name not in installed:
            name = "tensorflow"
        return Choice(name, "auto")
    elif requested in BACKENDS:
        name = requested
    else:
        raise BackendError(f"unknown backend {requested!r} (choose from {', '.join(BACKEND_CHOICES)})")
    if name not in installed:
        extra = ' (pip install "mnist-tui[jax]")' if name == "jax" else ""
        raise BackendError(f"the {name} backend is not installed{extra}")
    return Choice(name, reason)


def prepare(requested: str | None, arch: str) -> Choice:
    """Resolve the backend and set it up in this process, before Keras is imported.

    Sets ``KERAS_BACKEND`` (and, on JAX, the architecture's XLA flags) for Keras to read.
    When Keras is already loaded, the backend it runs is the one this process has: asking
    for another raises.

    Raises:
        BackendError: the backend is unknown, not installed, or not the one Keras already runs.
    """
    choice = resolve_backend(requested, arch, environ=os.environ, installed=installed_backends())
    if "keras" in sys.modules:
        loaded = sys.modules["keras"].config.backend()
        if loaded != choice.value:
            raise BackendError(
                f"Keras is already running on {loaded} in this process; start a new process for {choice.value}"
            )
        return choice
    os.environ["KERAS_BACKEND"] = choice.value
    flags = JAX_CPU_FLAGS.get(arch)
    if choice.value == "jax" and flags and "jax" not in sys.modules:
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    return choice


def title(backend: str) -> str:
    """``"TensorFlow"``, ``"JAX"``: the name a stage shows while the backend loads."""
    return {"tensorflow": "TensorFlow", "jax": "JAX"}.get(backend, backend)

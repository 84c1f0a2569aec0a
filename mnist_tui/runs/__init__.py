"""Every run remembered: an SQLite run store and a recorder sink. NumPy and the standard library only.

The app and headless mode wrap their sink in a :class:`Recorder`; the runs screen and
``mnist-tui runs`` read the same store through :func:`open_store`.
"""

from .disk import default_home
from .model import FAILED, FINISHED, INTERRUPTED, RUNNING, STATUSES, STOPPED, Epoch, Run
from .recorder import Recorder, data_fingerprint
from .store import RunStore, StoreError, UnknownRun, library_versions, open_store

__all__ = [
    "FAILED",
    "FINISHED",
    "INTERRUPTED",
    "RUNNING",
    "STATUSES",
    "STOPPED",
    "Epoch",
    "Recorder",
    "Run",
    "RunStore",
    "StoreError",
    "UnknownRun",
    "data_fingerprint",
    "default_home",
    "library_versions",
    "open_store",
]

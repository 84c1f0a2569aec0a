"""Sweeps: search the training options with Optuna, every trial an ordinary recorded run.

No TensorFlow and no Textual here: the driver gets its trainers from a factory, and the
UI and the command line show what it reports.
"""

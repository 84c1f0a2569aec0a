"""Train and explore a handwritten-digit classifier in your terminal."""

__version__ = "0.1.0"

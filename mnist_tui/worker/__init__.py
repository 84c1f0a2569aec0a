"""The trainer process: the protocol both sides speak, the child's main loop, and the UI-side client.

The UI process imports only :mod:`.protocol` and :mod:`.client`; TensorFlow is imported
by :mod:`.child`, in the child process alone.
"""

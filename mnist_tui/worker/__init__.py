"""The trainer process: the protocol both sides speak, the child's main loop, and the UI-side client.

The UI process imports only :mod:`.protocol`, :mod:`.processes` and :mod:`.client`; the
child process runs :mod:`.child`, which serves its model through :mod:`.served`
(with :mod:`.explain` and :mod:`.layouts`) and is the only side that imports TensorFlow.
"""

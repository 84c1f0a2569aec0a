"""One fit() per epoch over a permuted copy, timed piece by piece against a shuffled Keras epoch (MLP, 60,000 images)."""

import os
import time

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
from pathlib import Path

from mnist_tui import checkpointing, models
from mnist_tui.config import TrainConfig
from mnist_tui.data import load_mnist

models.configure_threads("mlp")
d = load_mnist(Path(os.environ.get("MNIST_TUI_DATA", "../shared/data/mnist")))
xf = models.scale(d.x_train)
y = d.y_train
m = models.build_model(TrainConfig(), steps_per_epoch=1875)
m.fit(xf[:64], y[:64], epochs=1, verbose=0)
for e in range(3):
    t = time.perf_counter()
    o = checkpointing.epoch_order(1, e, 60000)
    xo, yo = xf[o], y[o]
    t1 = time.perf_counter()
    m.fit(xo, yo, initial_epoch=e, epochs=e + 1, shuffle=False, verbose=0)
    t2 = time.perf_counter()
    m.fit(xo[:32], yo[:32], initial_epoch=e, epochs=e + 1, shuffle=False, verbose=0)
    t3 = time.perf_counter()
    print(f"copy {t1 - t:.2f}  epoch fit {t2 - t1:.2f}  1-batch fit {t3 - t2:.2f}", flush=True)
t = time.perf_counter()
m.fit(xf, y, epochs=1, shuffle=True, verbose=0)
print("keras shuffled epoch", round(time.perf_counter() - t, 2), os.getloadavg()[0])

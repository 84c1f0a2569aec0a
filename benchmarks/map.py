"""What the map costs: PCA, the islands layout, a redraw of the scatter, and ``p`` on a real model.

    python benchmarks/map.py [--model M.keras] [--data DIR] [--layout islands|umap]

Without ``--model`` the embeddings are fake blobs (10,000 points, 128 wide) and only
PCA, the layout and the redraw are timed. With it, a model process is started as the
app starts one (``RemoteModel.open``), and the time from asking for the embeddings to
the PCA map (what ``p`` shows first) and to the islands is printed, with how well each
layout keeps the digits apart (10-NN label vote, 1.0 = perfect islands).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_tui.analysis import knn_label_agreement, pca_2d


def fake_embeddings(n: int = 10_000, d: int = 128) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 10
    centres = rng.normal(0, 3, (10, d))
    return (centres[labels] + rng.normal(0, 1, (n, d))).astype(np.float32), labels


def redraw_ms(layout: np.ndarray, labels: np.ndarray, repeats: int = 20) -> tuple[float, float]:
    """Milliseconds to lay out the braille grid and to rebuild the strips after a box move, at 120x40."""
    from textual.app import App

    from mnist_tui.widgets.scatter import DIGIT_COLOURS, ScatterPlot

    timings: dict[str, float] = {}

    class Host(App):
        def compose(self):
            yield ScatterPlot()

    async def run() -> None:
        app = Host()
        async with app.run_test(size=(120, 40)) as pilot:
            plot = app.query_one(ScatterPlot)
            plot.colour_by(labels, DIGIT_COLOURS)
            plot.set_points(layout, labels % 7 == 0, 0)
            await pilot.pause()
            width, height = plot.size
            start = time.perf_counter()
            for _ in range(repeats):
                plot._scatter = None
                plot.scatter  # noqa: B018 - lays out the grid
            timings["grid"] = (time.perf_counter() - start) / repeats * 1000
            start = time.perf_counter()
            for i in range(repeats):
                plot.move_selection(0, 1 if i % 2 == 0 else -1)
                plot.build(width, height)
            timings["strips"] = (time.perf_counter() - start) / repeats * 1000

    asyncio.run(run())
    return timings["grid"], timings["strips"]


def real_model(model_path: Path, data_dir: str | None, method: str) -> None:
    from mnist_tui.data import load_mnist
    from mnist_tui.worker.client import RemoteModel

    data = load_mnist(data_dir)
    model = RemoteModel.open(model_path, model_path.stem)
    try:
        start = time.perf_counter()
        model.weights()  # answered once the model is loaded
        print(f"model process start + load:    {time.perf_counter() - start:6.2f} s (before p; the app has it already)")
        start = time.perf_counter()
        embeddings = model.embeddings(data.x_test)
        pca = pca_2d(embeddings)
        shown = time.perf_counter() - start
        print(f"p -> PCA map (embeddings+PCA): {shown:6.2f} s   10-NN {knn_label_agreement(pca, data.y_test):.3f}")
        try:
            layout = model.layout(data.x_test, method)
        except Exception as exc:
            print(f"layout failed: {exc}")
            return
        islands = time.perf_counter() - start
        agreement = knn_label_agreement(layout.points, data.y_test)
        print(f"p -> {layout.method} map:{'':>{18 - len(layout.method)}}{islands:6.2f} s   10-NN {agreement:.3f}")
        grid, strips = redraw_ms(layout.points, data.y_test)
        print(f"redraw at 120x40 (real layout): grid {grid:.1f} ms, strips {strips:.1f} ms")
    finally:
        model.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a saved .keras model: time p on it")
    parser.add_argument("--data", help="the MNIST folder (default: found as the app finds it)")
    parser.add_argument("--layout", default="islands", choices=["islands", "umap", "auto"])
    parser.add_argument("--points", type=int, default=10_000, help="fake embeddings to time without --model")
    args = parser.parse_args(argv)

    from mnist_tui.worker.layouts import compute_layout

    embeddings, labels = fake_embeddings(args.points)
    pca_2d(embeddings[:100])  # the first BLAS call starts its threads
    start = time.perf_counter()
    pca = pca_2d(embeddings)
    print(f"PCA of {len(embeddings):,} x {embeddings.shape[1]}:       {(time.perf_counter() - start) * 1000:6.1f} ms")
    start = time.perf_counter()
    layout = compute_layout(embeddings, args.layout)
    print(
        f"{args.layout} layout (fake blobs):   {time.perf_counter() - start:6.2f} s   10-NN {knn_label_agreement(layout, labels):.3f}"
    )
    grid, strips = redraw_ms(pca, labels)
    print(f"redraw at 120x40: grid {grid:.1f} ms, strips after a box move {strips:.1f} ms")
    if args.model is not None:
        real_model(args.model, args.data, args.layout)


if __name__ == "__main__":
    main()

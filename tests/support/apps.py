"""Apps and screens fed by fakes, as the UI tests build them."""

from __future__ import annotations

from mnist_tui.app import MnistApp
from mnist_tui.screens.map import MapScreen
from mnist_tui.screens.results import ResultsScreen
from mnist_tui.screens.weights import WeightsScreen
from mnist_tui.worker.protocol import Embeddings
from tests.support import fakes
from tests.support.fakes import FakeModelServer


def explain_app(model=None) -> MnistApp:
    app = MnistApp(predictions=fakes.fake_predictions(), model=model)
    app.animation_level = "none"
    return app


async def settle(pilot, screen: ResultsScreen) -> None:
    """Wait until every shown panel has its answer (the fake answers at once, on a thread)."""
    for _ in range(200):
        await pilot.pause()
        if not any(panel.pending for panel in screen.query("ModelPanel") if panel.display):
            await pilot.pause()
            return
    raise AssertionError("a panel never got its answer")


def results_app() -> MnistApp:
    app = MnistApp(predictions=fakes.fake_predictions())
    app.animation_level = "none"
    return app


def map_screen(model=None, current: int | None = 3, *, embeddings_error: str | None = None, **kwargs) -> MapScreen:
    predictions = fakes.fake_predictions()
    errors = {Embeddings: embeddings_error} if embeddings_error else None
    model = FakeModelServer(predictions.labels, errors=errors, **kwargs) if model is None else model
    return MapScreen(predictions, model, current)


async def open_weights(pilot, model) -> WeightsScreen:
    screen = WeightsScreen(model)
    await pilot.app.push_screen(screen)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen

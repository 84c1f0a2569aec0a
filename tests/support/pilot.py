"""Pilot helpers: wait for a condition, draw strokes with the mouse."""

from __future__ import annotations

from mnist_tui.widgets.canvas import DrawCanvas


async def wait_until(pilot, condition, tries: int = 100) -> None:
    """Let the app run until ``condition()`` holds (at most ``tries`` pauses of 50 ms)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never held")


async def stroke(pilot, points, button: int = 1) -> None:
    """Drag through ``points`` (cell offsets in the canvas) with a mouse button held."""
    canvas = pilot.app.screen.query_one(DrawCanvas)
    await pilot.mouse_down(canvas, offset=points[0], button=button)
    for point in points[1:]:
        await pilot.hover(canvas, offset=point)
    await pilot.mouse_up(canvas, offset=points[-1])
    await settled(pilot)


def vertical(x: int, top: int, bottom: int) -> list[tuple[int, int]]:
    """A few points down a column: strokes join them, as they do for a fast mouse."""
    return [(x, y) for y in range(top, bottom, 4)] + [(x, bottom)]


def horizontal(y: int, left: int, right: int) -> list[tuple[int, int]]:
    return [(x, y) for x in range(left, right, 8)] + [(right, y)]


async def settled(pilot) -> None:
    """Wait for the prediction timer, then for the prediction's worker and the message it posts."""
    await pilot.pause(0.1)
    predicting = [worker for worker in pilot.app.workers if worker.group == "draw-predict"]
    if predicting:  # (an empty list would wait for every worker, a held one's too)
        await pilot.app.workers.wait_for_complete(predicting)
    await pilot.pause()

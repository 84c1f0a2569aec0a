"""Keys typed ahead, all reaching the app before the first has been handled, act in order on the screen meant for them."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input

from mnist_tui.screens.dialogs import TrainForm
from mnist_tui.screens.marking import QueryDialog
from mnist_tui.widgets import typeahead
from tests.support.apps import results_app
from tests.support.pilot import wait_until


def type_ahead(app, *keys: str) -> None:
    """Queue ``keys`` as a terminal delivers keys typed fast: all of them before the app handles the first."""
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        app._driver.send_message(event)


async def test_a_query_typed_right_after_slash_reaches_its_field_and_q_is_a_letter_there():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        type_ahead(app, "slash", *"label 3 or tag q")
        await wait_until(
            pilot, lambda: isinstance(app.screen, QueryDialog) and any(field.value for field in app.screen.query(Input))
        )
        await pilot.pause()
        assert app.screen.query_one(Input).value == "label 3 or tag q"
        assert app.is_running  # its q typed into the field, not the app's quit
        await pilot.press("enter")
        assert app.screen.query_in_force.text == "label 3 or tag q"


async def test_digits_typed_right_after_t_fill_the_train_forms_first_field():
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        type_ahead(app, "t", "1", "2", "tab", "6", "4")
        # (the form is on the stack a moment before its fields are: query, not query_one)
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, TrainForm)
                and any(field.value == "64" for field in app.screen.query("#field-batch_size").results(Input))
            ),
        )
        assert app.screen.query_one("#field-epochs", Input).value == "12"


async def test_keys_a_field_takes_are_not_held_up(monkeypatch):
    # A key a widget uses never comes back to the app: the next one must not wait for it
    # (with HOLD_S this long, a key that waited would leave the field short of text).
    monkeypatch.setattr(typeahead, "HOLD_S", 60.0)
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash")
        text = "label 1 or label 2 or label 3"
        type_ahead(app, *text)
        field = app.screen.query_one("#query-input", Input)
        await wait_until(pilot, lambda: field.value == text, tries=40)


async def test_keys_the_app_answers_itself_do_not_hold_up_the_next(monkeypatch):
    monkeypatch.setattr(typeahead, "HOLD_S", 60.0)
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        type_ahead(app, "ctrl+p", *"draw")  # the palette: an app binding, the key never goes down
        await wait_until(pilot, lambda: any(field.value == "draw" for field in app.screen.query(Input)), tries=40)


@pytest.mark.parametrize("gap", [True, False])
async def test_keys_typed_one_at_a_time_act_as_before(gap):
    app = results_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for key in ("right", "right", "right"):
            if gap:
                await pilot.press(key)
            else:
                type_ahead(app, key)
        await wait_until(pilot, lambda: app.screen.current == 3)

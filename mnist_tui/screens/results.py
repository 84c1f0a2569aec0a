"""The results browser: every test image with the model's prediction, driven from the keyboard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Static

from ..datasets import MNIST
from ..events import ModelHandle
from ..predictions import Predictions, ViewCache, ViewFilter
from ..widgets.digit import DigitView
from ..widgets.image_list import LEGENDS, ImageList, list_title
from ..widgets.model_panel import ModelPanel
from ..widgets.neighbours import NeighboursPanel
from ..widgets.prediction import PredictionPanel
from ..widgets.why import WhyPanel, legend
from .base import AppScreen, NewSweep, TrainAgain, bindings
from .confusion import ConfusionScreen
from .curating import Curating
from .dialogs import GotoDialog, HelpScreen, SaveDialog
from .draw import DrawScreen
from .map import MapScreen
from .weights import WeightsScreen

ROOM_FOR_BOTH = 39
"""Terminal rows that hold the why panel (17) over the nearest images (18) under the header,
summary and footer. Below it the two explaining panels take turns: ``w`` or ``n`` shows its
panel in place of the other one, each whole, rather than one pushing the other off-screen."""


def image_title(index: int, total: int) -> str:
    """The image panel's title: the image's dataset index, said as such, and how many images there are.

    One convention across the browser: an image is named by its dataset index (``index 0``, as
    in the list, the go-to dialog, tags and the CLI; an identifier, so no thousands
    separator), while positions in the view count from 1 (``1 of 10,000``) and counts carry
    a thousands separator.
    """
    return f"index {index} · {total:,} images"


LOADING_MODEL = "loading the model…"
"""What the browser says while a model file's process imports TensorFlow and loads the model."""


class ResultsScreen(Curating, AppScreen):
    """Browse predictions: one image large, its confidences, and the list of the current view."""

    KEYS = "results"
    BINDINGS = bindings(KEYS)

    def __init__(
        self,
        predictions: Predictions,
        *,
        title: str = "Results",
        mode: str = "ascii",
        model: ModelHandle | None = None,
        run_dir: Path | None = None,
        run_id: int | None = None,
    ) -> None:
        super().__init__()
        self.run_id = run_id  # the recorded run shown: tags and relabels say they were made from it
        self.predictions = predictions
        self.model = model
        self.run_dir = run_dir  # the recorded run's folder: the map caches its layout there
        self.views = ViewCache(predictions)
        self.view = ViewFilter()
        self.indices = self.views.indices(self.view)
        self.position = 0
        self._last_panel = ""  # the explaining panel shown last: it stays where only one fits
        self.mode = mode
        self.sub_title = title
        self.waiting: str | None = None
        """While the predictions are not in: what is happening ("loading the model…"); ``None`` once they are."""
        self.no_predictions: str | None = None
        """Why there will be no predictions (the model could not be loaded); ``None`` while there may be."""

    @classmethod
    def predicting(
        cls, images: np.ndarray, labels: np.ndarray, *, title: str, model: ModelHandle | None = None
    ) -> ResultsScreen:
        """The browser on test images whose predictions are still coming (:meth:`fill_in` brings them).

        It shows the images and their true labels at once; the prediction, the list's
        prediction columns and the summary say that they are coming, and every key that
        needs predictions (mistakes, orders, queries, the matrix, the map, the grid, why,
        the nearest images, relabelling) says that it waits for them. The stand-in
        probabilities it holds meanwhile are never shown.
        """
        classes = MNIST.num_classes
        stand_in = Predictions(images, labels, np.full((len(labels), classes), 1 / classes, np.float32))
        screen = cls(stand_in, title=title, model=model)
        screen.waiting = LOADING_MODEL
        return screen

    def set_model(self, model: ModelHandle) -> None:
        """The model behind the predictions, once its process has started (``--model`` starts it after the first frame)."""
        self.model = model
        for panel in self.query(ModelPanel):
            panel.model = model

    @property
    def has_predictions(self) -> bool:
        return self.waiting is None and self.no_predictions is None

    info_title = PredictionPanel.TITLE
    """The prediction panel's title (a subclass names whose prediction it is)."""

    @property
    def total_images(self) -> int:
        """How many images this browser browses (a subset's own count in a subclass): the image title's count."""
        return len(self.predictions)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="browser"):
            with Vertical(id="digit-panel"):
                yield DigitView(mode=self.mode, id="digit")
                yield Static(id="empty")
            with Vertical(id="explain"):
                why = WhyPanel(self.model, id="why")
                why.border_title, why.border_subtitle = "Why", legend()
                yield why
                neighbours = NeighboursPanel(self.model, id="neighbours")  # its process knows the run's data
                neighbours.border_title = "Nearest training images"
                yield neighbours
            yield PredictionPanel(fixed=True, id="info-panel")
            image_list = ImageList(self.predictions, id="image-list")
            image_list.border_title, image_list.border_subtitle = list_title(self.view.order), LEGENDS[self.view.order]
            yield image_list
        yield Static(id="summary")
        yield Footer()

    def on_mount(self) -> None:
        # the first frame comes before the first Resize: it gets the layout for the size already
        width, height = self.size if self.size.area else self.app.size
        self.set_class(width < 110, "narrow")
        self.set_class(height < 34, "short")
        self._show_state()
        self._render_summary()
        self._show_view()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 110, "narrow")
        self._render_summary()
        self.set_class(self.size.height < 34, "short")
        shown = [panel for panel in self.query(ModelPanel) if panel.display]
        if len(shown) > 1 and self.size.height < ROOM_FOR_BOTH:
            # the terminal shrank under both panels: the one shown last stays
            for panel in shown:
                if panel.id != self._last_panel:
                    panel.display = False
                    panel.forget()
            self._explain()
        self._turn_titles()
        self._position_note()

    # ------------------------------------------------------------------ state -> widgets

    @property
    def current(self) -> int | None:
        """Dataset index of the image shown, or ``None`` in an empty view."""
        return int(self.indices[self.position]) if len(self.indices) else None

    def _show_view(self) -> None:
        """The view changed: refresh the list, then the current image."""
        self.set_class(len(self.indices) == 0, "-empty")
        image_list = self.query_one(ImageList)
        image_list.marks = self.marks
        image_list.show(self.indices, self.position, self.view.order)
        self._show_current()

    def _show_current(self) -> None:
        p = self.predictions
        panel = self.query_one("#digit-panel")
        count = len(self.indices)
        index = self.current
        with self.app.batch_update():
            self.query_one(ImageList).cursor = self.position
            panel.border_subtitle = f"{self.describe_view()} · {self.position + 1 if count else 0:,} of {count:,}"
            if index is None:
                panel.border_title = "No images"
                self.query_one("#empty", Static).update(
                    f"No images in this view ({self.describe_view()}).\nPress a to show all images."
                )
                self.query_one(PredictionPanel).show_nothing()
                self._explain()
                return
            marks = self.mark_words(index)
            panel.border_title = image_title(index, self.total_images) + (f" · {marks}" if marks else "")
            self.query_one(DigitView).image = p.images[index]
            if self.no_predictions is not None:
                self.query_one(PredictionPanel).show_unpredicted(int(p.labels[index]), Text("none", style="bold red"))
            elif self.waiting is not None:
                self.query_one(PredictionPanel).show_unpredicted(int(p.labels[index]), Text("predicting…", "yellow"))
            else:
                self.query_one(PredictionPanel).show_test_image(
                    p.probabilities[index], int(p.predicted[index]), int(p.labels[index]), float(p.confidence[index])
                )
            self._explain()

    def _render_summary(self) -> None:
        """Accuracy, mistakes and the per-digit accuracies, broken between entries, never inside one.

        Spaces end the styled part before them rather than start the next one: an SVG
        export draws each part on its own, and viewers drop a part's leading spaces.
        """
        p = self.predictions
        if not self.has_predictions:
            self._render_waiting()
            return
        parts: list[tuple[str, str]] = [
            ("Test accuracy ", "bold"),
            (f"{p.accuracy:.2%} ", "bold green"),
            (f"· {p.mistakes:,} mistakes of {len(p):,} · per digit:", ""),
        ]
        width = max(self.size.width - 2, 20)  # the summary's padding takes one column each side
        line = sum(len(part) for part, _ in parts)
        for digit, accuracy in enumerate(p.per_digit_accuracy()):
            value = "–" if accuracy is None else f"{accuracy:.1%}"
            entry = [(f"{digit} ", "bold"), (value, "red" if accuracy is not None and accuracy < 0.97 else "")]
            size = len(entry[0][0]) + len(value)
            if line + 2 + size > width:
                parts.append(("\n", ""))
                line = 0
            else:
                last, style = parts[-1]
                parts[-1] = (last + "  ", style)
                line += 2
            parts += entry
            line += size
        self.query_one("#summary", Static).update(Text.assemble(*parts))

    def _render_waiting(self) -> None:
        """The summary while the predictions are coming, or after they could not come."""
        summary = self.query_one("#summary", Static)
        if self.no_predictions is not None:
            summary.border_title = "No predictions"
            summary.update(
                Text.assemble(
                    ("✗ ", "bold red"),
                    (f"{self.no_predictions} ", "bold"),
                    ("\nThe images and their labels stay browsable; q quits.", "dim"),
                )
            )
            return
        summary.update(
            Text.assemble(
                ("Predicting ", "bold"),
                f"the {len(self.predictions):,} test images · ",
                (self.waiting or "", "yellow"),
            )
        )

    # ------------------------------------------------------------------ predictions that come later

    def _show_state(self) -> None:
        """The list and the panels as the predictions stand: in, coming, or not coming."""
        self.set_class(self.no_predictions is not None, "-failed")
        image_list = self.query_one(ImageList)
        image_list.waiting = not self.has_predictions
        if self.no_predictions is not None:
            image_list.border_subtitle = "no predictions"
        elif self.waiting is not None:
            image_list.border_subtitle = "predicting…"
        else:
            image_list.border_subtitle = LEGENDS[self.view.order]

    def show_progress(self, done: int) -> None:
        """``done`` of the test images are predicted (the model has loaded)."""
        if self.waiting is None or self.no_predictions is not None:
            return
        self.waiting = f"{done:,} of {len(self.predictions):,} predicted"
        if self.is_mounted:
            self._render_summary()

    def fill_in(self, predictions: Predictions, title: str | None = None) -> None:
        """The predictions are in: every part of the browser shows them, on the image shown now."""
        self.predictions = predictions
        self.views = ViewCache(predictions)
        self._query_data = None
        self.waiting = self.no_predictions = None
        if title is not None:
            self.sub_title = title
        for image_list in self.query(ImageList):  # none before the screen is composed: compose takes these
            image_list.predictions = predictions
        if not self.is_mounted:  # an answer before the first frame: on_mount shows it
            self.indices = self.queried(self.views.indices(self.view))
            return
        self._show_state()
        self._render_summary()
        self.set_view(self.view)

    def not_predicted(self, reason: str) -> None:
        """The predictions will not come (``reason``: why, one line): said in the summary, which turns red."""
        self.waiting = None
        self.no_predictions = reason
        if not self.is_mounted:  # an answer before the first frame: on_mount shows it
            return
        self._show_state()
        self._render_summary()
        self._show_current()

    def needs_predictions(self, what: str) -> bool:
        """Whether ``what`` (a view or key, capitalised) must wait for the predictions; if so it says so, in one line."""
        if self.has_predictions:
            return False
        if self.no_predictions is not None:
            self.notify(f"{what} needs predictions, and there are none: {self.no_predictions}", severity="warning")
        else:
            self.notify(f"{what} waits for the predictions: {self.waiting}", timeout=3)
        return True

    # ------------------------------------------------------------------ view changes

    def set_view(self, view: ViewFilter) -> None:
        """Switch to another filter/order, keeping the current image when it is in the new view."""
        keep = self.current
        self.view = view
        self.indices = self.queried(self.views.indices(view))
        found = np.flatnonzero(self.indices == keep) if keep is not None else np.zeros(0, np.int64)
        self.position = int(found[0]) if len(found) else 0
        self._show_view()

    def describe_view(self) -> str:
        """The view's filters and order, and the query in force."""
        described = self.view.describe()
        return f"{described} · where {self.query_in_force.text}" if self.query_in_force else described

    def refresh_view(self) -> None:
        """The query or the marks changed: the same filters again, the current image kept when it stays."""
        self.set_view(self.view)

    def move_to(self, position: int) -> None:
        if not len(self.indices):
            return
        position = min(max(position, 0), len(self.indices) - 1)
        if position != self.position:
            self.position = position
            self._show_current()

    # ------------------------------------------------------------------ actions

    def action_move(self, delta: int) -> None:
        self.move_to(self.position + delta)

    def action_page(self, direction: int) -> None:
        image_list = self.query_one(ImageList)
        page = image_list.page_size if image_list.display and image_list.size.height else 20
        self.move_to(self.position + direction * page)

    def action_jump(self, where: int) -> None:
        self.move_to(where if where >= 0 else len(self.indices) - 1)

    def action_toggle_mistakes(self) -> None:
        if self.needs_predictions("The mistakes filter"):
            return
        view = self.view
        self.set_view(
            ViewFilter(not view.mistakes_only, view.digit, view.predicted, order=view.order, selection=view.selection)
        )

    def action_digit(self, digit: int) -> None:
        self.set_view(
            ViewFilter(self.view.mistakes_only, digit, None, order=self.view.order, selection=self.view.selection)
        )

    def action_show_all(self) -> None:
        self.set_view(ViewFilter().with_order(self.view.order))

    def action_toggle_order(self) -> None:
        """Dataset order, then least confident first, then suspicious labels first."""
        if self.needs_predictions("Ordering by confidence"):
            return
        self.set_view(self.view.next_order())

    def action_toggle_panel(self, name: str) -> None:
        """Show or hide one of the panels that explain the current image (``why``, ``neighbours``)."""
        panel = self.query_one(f"#{name}", ModelPanel)
        if not panel.display and self.needs_predictions("Why" if name == "why" else "The nearest images"):
            return
        panel.display = not panel.display
        if not panel.display:
            panel.forget()
        else:
            self._last_panel = name
            if self.size.height < ROOM_FOR_BOTH:
                for other in self.query(ModelPanel):
                    if other is not panel and other.display:
                        other.display = False
                        other.forget()
        self._explain()

    def _turn_titles(self) -> None:
        """Where the panels take turns, a shown panel's title names the key that brings the other one."""
        turns = self.size.height < ROOM_FOR_BOTH
        why, neighbours = self.query_one(WhyPanel), self.query_one(NeighboursPanel)
        why.border_title = "Why · n: nearest images instead" if turns else "Why"
        neighbours.border_title = "Nearest training images · w: why instead" if turns else "Nearest training images"

    def _explain(self) -> None:
        """Hand the current image to the explaining panels that are shown."""
        panels = [panel for panel in self.query(ModelPanel) if panel.display]
        self.set_class(bool(panels), "-explain")
        self._turn_titles()
        self._position_note()
        index = self.current
        p = self.predictions
        for panel in panels:
            if index is None:
                panel.show_message("No image in this view.")
            elif isinstance(panel, WhyPanel):
                panel.show_image(
                    index, p.images[index], int(p.labels[index]), int(p.predicted[index]), p.probabilities[index]
                )
            elif isinstance(panel, NeighboursPanel):
                panel.show_image(index, p.images[index], int(p.labels[index]), int(p.predicted[index]))

    def _position_note(self) -> None:
        """Where the digit panel gives way to the explaining panels, the prediction panel says which image this is."""
        index = self.current
        hidden = self.has_class("-explain") and self.has_class("narrow") and index is not None
        panel = self.query_one("#info-panel")
        if not hidden:
            panel.border_title, panel.border_subtitle = self.info_title, ""
            return
        # the panel is narrow (18 columns at 80x24): the index in its title, the position below
        named = self.info_title != PredictionPanel.TITLE
        panel.border_title = f"{self.info_title} · index {index}" if named else f"index {index}"
        panel.border_subtitle = f"{self.position + 1:,} of {len(self.indices):,}"

    def action_toggle_mode(self) -> None:
        self.mode = "blocks" if self.mode == "ascii" else "ascii"
        self.query_one(DigitView).mode = self.mode

    def action_goto(self) -> None:
        def go(index: int | None) -> None:
            if index is None:
                return
            if not np.any(self.indices == index):
                self.set_view(ViewFilter().with_order(self.view.order))
                self.notify(f"Index {index} is not in the filtered view; showing all images", timeout=3)
            self.move_to(int(np.flatnonzero(self.indices == index)[0]))

        self.app.push_screen(GotoDialog(len(self.predictions)), go)

    def action_confusion(self) -> None:
        if self.needs_predictions("The confusion matrix"):
            return
        index = self.current
        start = (
            (int(self.predictions.labels[index]), int(self.predictions.predicted[index]))
            if index is not None
            else (0, 0)
        )

        def drill(cell: tuple[int, int] | None) -> None:
            if cell is not None:
                true, pred = cell
                self.set_view(ViewFilter(digit=true, predicted=pred, order=self.view.order))

        self.app.push_screen(ConfusionScreen(self.predictions, start), drill)

    def action_map(self) -> None:
        """Every test image on one screen; the images selected there become the view."""
        if self.needs_predictions("The map"):
            return

        def chosen(indices) -> None:
            if indices is not None and len(indices):
                selection = tuple(sorted(int(i) for i in indices))
                self.set_view(ViewFilter(selection=selection, order=self.view.order))

        self.app.push_screen(MapScreen(self.predictions, self.model, self.current, cache_dir=self.run_dir), chosen)

    def action_learned(self) -> None:
        if self.model is None:
            self.notify("There is no model in this session to look inside.", severity="warning", timeout=3)
            return
        self.app.push_screen(WeightsScreen(self.model))

    def action_draw(self) -> None:
        if self.model is None:
            self.notify("There is no model in this session to draw against.", severity="warning", timeout=3)
            return
        self.app.push_screen(DrawScreen(self.model, title=self.sub_title or ""))

    def action_save(self) -> None:
        if self.model is None:
            self.notify("There is no model in this session to save.", severity="warning", timeout=3)
            return

        name = self.model.name
        session = getattr(self.app, "session", None)  # the app's Session; a bare test app has none
        suggested = session.save_path_for(name) if session is not None else Path.cwd() / f"mnist-{name}.keras"

        def saved(path: Path | None) -> None:
            if path is not None:
                if session is not None:
                    session.remember_save(name, path)
                self.notify(f"Saved the model to {path}", timeout=4)

        self.app.push_screen(SaveDialog(self.model, suggested), saved)

    def action_train_again(self) -> None:
        self.post_message(TrainAgain())

    def action_new_sweep(self) -> None:
        self.post_message(NewSweep())

    def action_query(self) -> None:
        """Type a query over the view (``/``): errors as you type, named queries reopened."""
        if self.needs_predictions("A query"):
            return
        self.ask_query(self.views.indices(self.view))

    def action_tag(self) -> None:
        if self.current is not None:
            self.ask_tag([self.current])

    def action_relabel(self) -> None:
        if self.needs_predictions("Relabelling (it offers the model's label)"):
            return
        if self.current is not None:
            self.ask_relabel([self.current])

    def action_grid(self) -> None:
        """The view as a grid of thumbnails; enter there comes back to the image chosen."""
        if self.needs_predictions("The grid"):
            return
        from .grid import GridScreen

        grid = GridScreen(self)

        def chosen(position: int | None) -> None:
            if position is not None:
                self.move_to(position)
            if grid.then_nearest and not self.query_one(NeighboursPanel).display:
                self.action_toggle_panel("neighbours")

        self.app.push_screen(grid, chosen)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))

    def action_back(self) -> None:
        """Back to the training screen (its curves and epoch table), when there is one."""
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    @on(ImageList.Selected)
    def _clicked(self, event: ImageList.Selected) -> None:
        self.move_to(event.position)

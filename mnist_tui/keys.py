"""Every key of every screen, written once: what it runs, its footer label, its help line, its group.

Plain data, no Textual: the screens build their bindings from it
(:func:`mnist_tui.screens.base.bindings`), the one help screen lists the keys of the screen
it is opened over from it (those the screen really binds), :func:`epilog` prints them for
``mnist-tui --help``, and a test holds the README's table of keys to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .datasets import MNIST


@dataclass(frozen=True)
class Key:
    """One key (or several keys for one action) of a screen."""

    keys: str
    """Textual key names, comma-separated (``"right,l,j"``); for what the mouse or a widget
    does (no ``action``), how the help names it (``"click a row"``)."""
    action: str = ""
    """The action the keys run (``"move(1)"``, ``"app.quit"``); empty for the mouse or a widget's own keys."""
    label: str = ""
    """The footer's short name (and the command palette's, without ``command``)."""
    command: str = ""
    """The command palette's name when the footer's is too short to be found by (``"Confusion matrix"``):
    the palette matches what is typed against this name only."""
    help: str = ""
    """The help's line for it; empty: not a line of its own (see ``joins``)."""
    group: str = ""
    """The help's section."""
    show: bool = True
    """Shown in the footer."""
    display: str = ""
    """How the footer writes the key (``"→"``), when not as the help does."""
    help_keys: str = ""
    """How the help writes the keys, when not one by one (``"0 … 9"``)."""
    joins: bool = False
    """Its keys join the help line above it (``"pagedown / pageup"``, ``"enter / click"``)."""
    bound: bool = True
    """The screen binds it itself; ``False``: the app, Textual or a widget does, and the help lists it when it is live."""
    priority: bool = False
    """Runs before the focused widget sees the key (``enter`` over a table)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The key names (``("right", "l", "j")``); none for the mouse or a widget's own keys."""
        return tuple(self.keys.split(",")) if self.action else ()


@dataclass(frozen=True)
class ScreenKeys:
    """The keys of one screen, in footer and help order."""

    name: str
    title: str
    """The help's title."""
    where: str
    """Says where the keys work, for :func:`epilog` (``"in the results"``)."""
    keys: tuple[Key, ...]


@dataclass(frozen=True)
class HelpRow:
    """One line of a help: its section, the keys as written, what they do."""

    group: str
    keys: str
    text: str


SYMBOLS = {
    "right": "→",
    "left": "←",
    "up": "↑",
    "down": "↓",
    "question_mark": "?",
    "slash": "/",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}
"""Keys written as the symbol on the keyboard; every other key by its name."""


def display(key: str) -> str:
    """How a key is written for a person: ``"→"`` for ``right``, ``"?"`` for ``question_mark``."""
    return SYMBOLS.get(key, key)


def group(name: str, *keys: Key) -> tuple[Key, ...]:
    """``keys`` in the help's section ``name``."""
    return tuple(replace(key, group=name) for key in keys)


# Keys several screens share, so that each is written once.
QUIT = Key("q", "app.quit", "Quit", help="quit")
HELP = Key("question_mark", "help", "Help", help="this help", display="?", command="Help: keys of this screen")
RUNS = Key(
    "R", "app.runs", "Runs", help="recorded runs: open, compare, rename, delete", show=False, command="Recorded runs"
)
SWEEPS = Key(
    "W", "app.sweeps", "Sweeps", help="the newest sweep, live: trials, curves, parallel coordinates", show=False,
    command="Sweep: the newest sweep's trials",
)  # fmt: skip
NEW_SWEEP = Key(
    "T", "new_sweep", "Sweep", help="sweep the options with Optuna", show=False,
    command="Sweep: search the options (a new sweep)",
)  # fmt: skip
"""Beside train-again: the sweep form, its fixed options the current run's."""
PALETTE = Key("ctrl+p", "app.command_palette", help="command palette: every action by name", bound=False)
"""Textual binds it on the app; listed so that the helps and the README say it."""

_first, _last = MNIST.classes[0], MNIST.classes[-1]
CLASS_KEYS = tuple(
    Key(
        str(label),
        f"digit({label})",
        f"Digit {label}",
        help="only images of that true digit" if label == _first else "",
        help_keys=f"{_first} … {_last}" if label == _first else "",
        show=False,
    )
    for label in MNIST.classes
)
"""One key per class in the results browser (``0`` to ``9`` for MNIST)."""

SCREENS: dict[str, ScreenKeys] = {
    screen.name: screen
    for screen in (
        ScreenKeys(
            "app",
            "Keys",
            "everywhere",
            (
                Key("ctrl+c", "quit", "Quit", help="quit at once", show=False, priority=True),
                RUNS,
                SWEEPS,
                PALETTE,
            ),
        ),
        ScreenKeys(
            "training",
            "Keys: training",
            "while training",
            group(
                "Training",
                Key(
                    "s",
                    "stop",
                    "Stop early",
                    help="stop early: the model trained so far is kept, scored and browsed",
                    command="Stop training early",
                ),
                Key(
                    "r",
                    "results",
                    "Results",
                    help="the results once the run ends (after a failure: the last ones)",
                    command="Results: browse the test images",
                ),
                Key(
                    "t",
                    "train_again",
                    "Train",
                    help="train again with other options, once the run has ended",
                    command="Train again",
                ),
                replace(NEW_SWEEP, help="sweep the options with Optuna, once the run has ended"),
                Key(
                    "y",
                    "log_scale",
                    "Log y",
                    help="log scale on the loss charts (again: linear)",
                    show=False,
                    command="Log scale on the loss charts",
                ),
                replace(RUNS, show=True),
                HELP,
                QUIT,
            ),
        ),
        ScreenKeys(
            "results",
            "Keys",
            "in the results",
            group(
                "Browse",
                Key("right,l,j", "move(1)", "Next", help="next image", display="→"),
                Key("left,h,k", "move(-1)", "Prev", help="previous image", display="←"),
                Key("pagedown", "page(1)", "Page down", help="jump a page", show=False),
                Key("pageup", "page(-1)", "Page up", show=False, joins=True),
                Key("home", "jump(0)", "First", help="first / last image", show=False),
                Key("end", "jump(-1)", "Last", show=False, joins=True),
                Key("click a row", help="select that image", bound=False),
            )
            + group(
                "Filter and order",
                Key("e", "toggle_mistakes", "Mistakes", help="mistakes only (toggle)", command="Mistakes only"),
                *CLASS_KEYS,
                Key("a", "show_all", "All", help="all images again", show=False, command="All images"),
                Key(
                    "o",
                    "toggle_order",
                    "Order",
                    help="order: index / least confident / suspicious",
                    show=False,
                    command="Order: index, least confident, suspicious labels",
                ),
                Key("g", "goto", "Go to", help="go to an index", show=False, command="Go to an image"),
                Key(
                    "slash",
                    "query",
                    "Query",
                    help="query: label, pred, conf, tags …",
                    show=False,
                    command="Query the view (label, pred, conf, score, tags)",
                ),
            )
            + group(
                "Review labels",
                Key(
                    "G",
                    "grid",
                    "Grid",
                    help="the view as a grid of thumbnails",
                    show=False,
                    command="Grid of the view's images",
                ),
                Key(
                    "x",
                    "tag",
                    "Tag",
                    help="tag: mislabelled, ambiguous, fine …",
                    show=False,
                    command="Tag the image",
                ),
                Key(
                    "b",
                    "relabel",
                    "Relabel",
                    help="the label you believe is right",
                    show=False,
                    command="Relabel the image",
                ),
            )
            + group(
                "Views",
                Key(
                    "w",
                    "toggle_panel('why')",
                    "Why",
                    help="why: which pixels pushed toward / against",
                    show=False,
                    command="Why: the pixels behind the prediction",
                ),
                Key(
                    "n",
                    "toggle_panel('neighbours')",
                    "Nearest",
                    help="nearest training images",
                    show=False,
                    command="Nearest training images",
                ),
                Key(
                    "m",
                    "toggle_mode",
                    "Mode",
                    help="ASCII art / half-block rendering",
                    show=False,
                    command="Rendering: ASCII art / half blocks",
                ),
                Key(
                    "c",
                    "confusion",
                    "Matrix",
                    help="confusion matrix (enter drills into a cell)",
                    command="Confusion matrix",
                ),
                Key(
                    "p",
                    "map",
                    "Map",
                    help="map of all test images (enter opens the selected ones)",
                    show=False,
                    command="Map of all test images",
                ),
                Key(
                    "L",
                    "learned",
                    "Learned",
                    help="what the first layer learned",
                    show=False,
                    command="Learned weights of the first layer",
                ),
                Key("d", "draw", "Draw", help="draw a digit for the model to read", command="Draw a digit"),
                Key("t", "train_again", "Train", help="train again with other options", command="Train again"),
                NEW_SWEEP,
                Key("s", "save", "Save", help="save the model to a file", command="Save the model"),
                replace(RUNS, bound=False),
                PALETTE,
                HELP,
                Key("escape", "back", "Back", help="back", show=False),
                QUIT,
            ),
        ),
        ScreenKeys(
            "grid",
            "Keys: grid",
            "in the grid",
            group(
                "Grid",
                Key("up", "move_rows(-1)", "Move", help="move", show=False),
                Key("down", "move_rows(1)", "Move", show=False, joins=True),
                Key("left", "move(-1)", "Move", show=False, joins=True),
                Key("right", "move(1)", "Move", display="←↑↓→", joins=True),
                Key("pagedown", "page(1)", "Page down", help="a page down / up", show=False),
                Key("pageup", "page(-1)", "Page up", show=False, joins=True),
                Key("home", "jump(0)", "First", help="first / last image", show=False),
                Key("end", "jump(-1)", "Last", show=False, joins=True),
                Key("enter", "open", "Open", help="open the image in the browser"),
                Key("click", help="move to that image", bound=False),
                Key("space", "select", "Select", help="select the image (again: unselect)"),
                Key("A", "select_all", "All", help="select every image of the view (again: none)", show=False),
                Key("x", "tag", "Tag", help="tag the selection (none: the image)"),
                Key("b", "relabel", "Relabel", help="the label you believe (for the selection, or the image)"),
                Key("slash", "query", "Query", help="query the view", display="/"),
                Key("m", "toggle_mode", "Mode", help="half blocks / braille", show=False),
                Key(
                    "n",
                    "nearest",
                    "Nearest",
                    help="the nearest training images of the selection's first image (or this one)",
                    show=False,
                ),
                HELP,
                Key("escape", "back", "Back", help="back to the browser"),
                QUIT,
            ),
        ),
        ScreenKeys(
            "tag",
            "Keys: tag",
            "when tagging",
            (
                Key("m", "pick('mislabelled')", "Mislabelled", help="mislabelled"),
                Key("a", "pick('ambiguous')", "Ambiguous", help="ambiguous"),
                Key("f", "pick('fine')", "Fine", help="fine"),
                Key("t", "type", "Type", help="type another tag"),
                Key("escape", "dismiss(None)", "Cancel", help="cancel"),
            ),
        ),
        ScreenKeys(
            "relabel",
            "Keys: relabel",
            "when relabelling",
            (
                Key("enter", "choose(-1)", "Model's", help="the model's label", priority=True),
                *(
                    Key(
                        str(c),
                        f"choose({c})",
                        str(c),
                        help="that label" if c == _first else "",
                        help_keys=f"{_first} … {_last}" if c == _first else "",
                        show=False,
                    )
                    for c in MNIST.classes
                ),
                Key("backspace,delete", "forget", "Forget", help="back to the dataset's label"),
                Key("escape", "dismiss(None)", "Cancel", help="cancel"),
            ),
        ),
        ScreenKeys(
            "nearest",
            "Keys: nearest images",
            "over the nearest images",
            (Key("escape", "dismiss(None)", "Back", help="back to the drawing"),),
        ),
        ScreenKeys(
            "query", "Keys: query", "in the query dialog", (Key("escape", "dismiss(None)", "Cancel", help="cancel"),)
        ),
        ScreenKeys(
            "confusion",
            "Keys: confusion matrix",
            "in the confusion matrix",
            group(
                "Confusion matrix",
                Key("escape", "dismiss(None)", "Back", help="back to the browser"),
                Key("enter", "drill", "Show these images", help="browse the images of that cell or pair"),
                Key("tab", "app.focus_next", "Pairs / matrix", help="the most confused pairs / the matrix"),
                QUIT,
            ),
        ),
        ScreenKeys(
            "draw",
            "Keys: draw",
            "on the draw screen",
            group(
                "Draw",
                Key("up", "move(0, -1)", "Move", help="move the cursor", display="←↑↓→"),
                Key("down", "move(0, 1)", "Move", show=False, joins=True),
                Key("left", "move(-1, 0)", "Move", show=False, joins=True),
                Key("right", "move(1, 0)", "Move", show=False, joins=True),
                Key("space", "paint", "Paint", help="paint under the cursor"),
                Key("backspace,delete", "paint(True)", "Erase", help="erase under the cursor", show=False),
                Key("p", "pen", "Pen", help="pen down: the arrows draw (again: lift it)"),
                Key("x", "clear", "Clear", help="clear the drawing"),
                Key(
                    "n",
                    "nearest",
                    "Nearest",
                    help="the training images most like the drawing",
                    command="Training images most like your drawing",
                    show=False,
                ),
                Key("escape", "app.pop_screen", "Back", help="back to the browser"),
                QUIT,
            ),
        ),
        ScreenKeys(
            "map",
            "Keys: map",
            "on the map",
            group(
                "Map",
                Key("up", "move(-1, 0)", "Move", help="move the selection box", show=False),
                Key("down", "move(1, 0)", "Move", show=False, joins=True),
                Key("left", "move(0, -1)", "Move", show=False, joins=True),
                Key("right", "move(0, 1)", "Move", display="←↑↓→", joins=True),
                Key("shift+up", "grow(-1, 0)", "Size", help="resize the selection box", show=False),
                Key("shift+down", "grow(1, 0)", "Size", show=False, joins=True),
                Key("shift+left", "grow(0, -1)", "Size", show=False, joins=True),
                Key("shift+right", "grow(0, 1)", "Size", display="⇧+arrows", joins=True),
                Key("enter", "open", "Open", help="open the selected images in the browser"),
                Key("k", "colour", "Colour", help="colour by true digit / predicted digit / confidence"),
                Key("v", "layout", "Layout", help="PCA / islands layout"),
                Key("escape", "dismiss(None)", "Back", help="back to the browser"),
                QUIT,
            ),
        ),
        ScreenKeys(
            "weights",
            "Keys: learned",
            "on the learned-weights screen",
            group(
                "Learned",
                Key("pagedown,right,space", "turn(1)", "Next page", help="next page", display="PgDn"),
                Key("pageup,left", "turn(-1)", "Previous page", help="previous page", display="PgUp"),
                Key("home", "turn(-1000000)", "First", help="first / last page", show=False),
                Key("end", "turn(1000000)", "Last", show=False, joins=True),
                Key("escape", "dismiss(None)", "Back", help="back to the browser"),
                QUIT,
            ),
        ),
        ScreenKeys(
            "runs",
            "Keys: runs",
            "on the runs screen",
            group(
                "Runs",
                Key("↑ ↓  pageup pagedown", help="move", bound=False),
                Key("enter", "open", "Open", help="open the run's results"),
                Key("click", joins=True, bound=False),
                Key("space", "mark", "Mark", help="mark for comparison (again: unmark)"),
                Key("c", "compare", "Compare", help="compare the 2 to 8 marked runs"),
                Key("n", "rename", "Rename", help="rename"),
                # the run's details line offers them where they apply: not in the footer
                Key("r", "resume", "Resume", help="resume an interrupted run from its last checkpoint", show=False),
                Key(
                    "f",
                    "further",
                    "Further",
                    help="train a finished run further, as a new run (asks how many epochs)",
                    show=False,
                ),
                Key("delete", "delete", "Delete", help="delete (asks first)", display="del"),
            )
            + group(
                "Order and filter",
                Key("s", "sort", "Sort", help="sort by the next column"),
                Key("S", "reverse", "Reverse", help="reverse the order", show=False),
                Key("click a header", help="sort by it (again: reverse)", bound=False),
                # the filter field says so: not in the footer
                Key("slash", "filter", "Filter", help="filter: type words (name, arch, options, status)", show=False),
            )
            + group(
                "Screen",
                HELP,
                Key("escape", "back", "Back", help="leave the filter; again: clear it; then back", show=False),
                QUIT,
            ),
        ),
        ScreenKeys(
            "compare",
            "Keys: compare runs",
            "when comparing runs",
            group(
                "Compare",
                Key("↑ ↓", help="choose a set of flipped images", bound=False),
                # whichever table has focus
                Key("enter", "browse", "Browse", help="browse that set (both runs' predictions)", priority=True),
                Key("y", "log", "Log scale", help="log scale on the loss charts (again: linear)"),
                Key("tab", "app.focus_next", help="the next table (scrolls when it is wide)", bound=False),
            )
            + group(
                "Screen",
                HELP,
                Key("escape", "back", "Back", help="back to the runs"),
                QUIT,
            ),
        ),
        ScreenKeys(
            "sweep",
            "Keys: sweep",
            "on the sweep screen",
            group(
                "Trials",
                Key("↑ ↓", help="choose a trial", bound=False),
                Key("enter", "open", "Open", help="open the trial's results (its recorded run)", priority=True),
                Key("s", "sort", "Sort", help="sort by the next column (accuracy: best first)"),
                Key("S", "reverse", "Reverse", help="reverse the order", show=False),
                Key("f", "train_best", "Train best", help="train the best trial's options as a full run"),
                Key("c", "compare_best", "Compare", help="compare the best trial with the runner-up"),
            )
            + group(
                "Parallel coordinates",
                Key("left_square_bracket", "axis(-1)", "Axis", help="choose the axis to the left / right", display="["),
                Key("right_square_bracket", "axis(1)", show=False, joins=True),
                Key(
                    "b",
                    "brush",
                    "Brush",
                    help="brush the chosen axis: top half, top quarter, bottom half, bottom quarter, off",
                ),
                Key("B", "clear_brushes", help="clear every brush", show=False),
            )
            + group(
                "Screen",
                HELP,
                Key("escape", "back", "Back", help="back"),
                QUIT,
            ),
        ),
        ScreenKeys(
            "goto", "Keys: go to", "in the go-to dialog", (Key("escape", "dismiss(None)", "Cancel", help="cancel"),)
        ),
        ScreenKeys(
            "rename", "Keys: rename", "in the rename dialog", (Key("escape", "dismiss(None)", "Cancel", help="cancel"),)
        ),
        ScreenKeys(
            "confirm",
            "Keys: confirm",
            "in a question",
            (
                Key("y", "dismiss(True)", "Yes", help="yes"),
                Key("n,escape", "dismiss(False)", "No", help="no (the default)"),
            ),
        ),
        ScreenKeys(
            "help", "Keys: help", "in a help", (Key("escape,question_mark,q", "dismiss(None)", "Close", help="close"),)
        ),
    )
}
"""Every screen's keys, by the name the screen gives (its ``KEYS``)."""


def command(name: str, action: str) -> tuple[str, str] | None:
    """The command palette's name and help for screen ``name``'s ``action``, or ``None`` if it has no such key."""
    screen = SCREENS.get(name)
    for key in screen.keys if screen is not None else ():
        if key.action == action and key.label:
            return key.command or key.label, key.help or key.label
    return None


def declared(key: Key) -> Sequence[str]:
    """The keys ``key`` declares: what a help shows when it does not look at a live screen."""
    return key.names


def help_rows(name: str, live: Callable[[Key], Sequence[str] | None] = declared) -> list[HelpRow]:
    """The lines of screen ``name``'s help, in order.

    Args:
        name: The screen, as in :data:`SCREENS`.
        live: The keys that run an entry's action now (``None``: not bound there, so
            not listed). Entries without an action (the mouse, a widget's own keys) are
            always listed.
    """
    rows: list[HelpRow] = []
    for key in SCREENS[name].keys:
        if key.action:
            names = live(key)
            if not names:
                continue
            written = key.help_keys or "  ".join(display(n) for n in names)
        else:
            written = key.keys
        if key.joins and rows:
            rows[-1] = replace(rows[-1], keys=f"{rows[-1].keys} / {written}")
        elif key.help:
            rows.append(HelpRow(key.group, written, key.help))
    return rows


def epilog(names: Sequence[str] = ("training", "results")) -> str:
    """The keys of the screens ``names`` as text, for the CLI's ``--help`` epilog."""
    blocks = []
    for name in names:
        rows = help_rows(name)
        width = max(len(row.keys) for row in rows) + 2
        lines = [f"keys {SCREENS[name].where}:"]
        lines += [f"  {row.keys:<{width}}{row.text}" for row in rows]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)

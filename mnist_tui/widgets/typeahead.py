"""Keys typed ahead go where the person typing meant them: each waits for what the key before it did.

Textual hands a key to the focused widget (or to the screen), which hands it back up to
the app, where the bindings run. Keys that reach the app together (typed fast on a busy
machine, or sent by a script) were all handed down before the first came back: the
letters typed right after ``/`` went to the results screen, not to the query's field,
which did not exist yet, and were lost or acted on the screen below. Here a key waits,
in order, until

- the key before it has come back (its binding has run) or was used on the way,
- the messages that key's binding posted have been handled (``t`` posts one that opens
  the train form),
- a screen just pushed has mounted, and the focus its mount asked for has moved,

each for at most :data:`HOLD_S`, so that a key nothing answers never holds up the next.
Keys typed one at a time, as most are, find nothing to wait for and go at once.
"""

from __future__ import annotations

import time
import weakref
from collections import deque

from textual import events
from textual.app import App
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.timer import Timer

HOLD_S = 2.0
"""The longest a key waits for any one thing: a safety net, never reached in the suite (the train form
took over 0.5 s to mount on a loaded machine, so the net sits well above that)."""
RETRY_S = 0.005
"""How often held keys look again (only while some are held)."""


class KeySettled(Message):
    """Posted behind what a key caused: when it reaches the app, all that was posted before it has been handled."""


class KeysInOrder(App):
    """An app whose keys, typed however fast, act one after the other on the screen that is there for them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._held: deque[events.Key] = deque()
        self._in_flight: events.Key | None = None
        self._settling: KeySettled | None = None
        self._opened: weakref.ref[Screen] | None = None
        """The screen pushed last (not kept alive for this)."""
        self._since = 0.0
        """When the thing the next key waits for began."""
        self._retry: Timer | None = None

    def push_screen(self, screen, callback=None, wait_for_dismiss=False, *, mode=None):
        pushed = super().push_screen(screen, callback, wait_for_dismiss, mode=mode)
        self._opened, self._since = weakref.ref(self.screen_stack[-1]), time.monotonic()
        return pushed

    # ------------------------------------------------------------------ what a key waits for

    def _waiting(self) -> bool:
        """Whether the next key must wait, starting the next thing to wait for when one is over."""
        if time.monotonic() - self._since > HOLD_S:  # something that never answers: the keys go on
            self._in_flight = self._settling = self._opened = None
            return False
        key = self._in_flight
        # a widget that used the key stopped it, and it never comes back (Textual has no public flag for that)
        if key is not None and not key._stop_propagation:
            return True
        self._in_flight = None
        if self._settling is not None:
            return True
        screen = self._opened() if self._opened is not None else None
        if screen is not None:
            if not screen.is_mounted and screen in self.screen_stack:
                return True
            self._opened = None
            if screen.is_mounted:  # its mount may have asked the app to move the focus: that first
                return self._settle(self)
        return False

    def _settle(self, pump: MessagePump) -> bool:
        """Wait until what ``pump`` has been sent so far has been handled (False: it takes no more messages)."""
        settling = KeySettled()
        if not pump.post_message(settling):
            return False
        self._settling, self._since = settling, time.monotonic()
        return True

    # ------------------------------------------------------------------ keys

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or not self.is_running:
            await super().on_event(event)
        elif not event.is_forwarded:  # typed: in line behind the keys held
            self._held.append(event)
            await self._hand_down()
        elif event is not self._in_flight:
            await super().on_event(event)
        else:  # back from the screen: its bindings run now, and may post what opens a screen
            self._in_flight = self._opened = None
            screen = self.screen
            await super().on_event(event)
            if self._opened is None:  # (a key typed a moment later would otherwise beat that message)
                self._settle(screen)
            await self._hand_down()

    async def on_key_settled(self, message: KeySettled) -> None:
        if message is self._settling:
            self._settling = None
            await self._hand_down()

    async def _hand_down(self) -> None:
        """Send the held keys on, one at a time, while nothing makes the next one wait."""
        while self._held and self.screen_stack and not self._waiting():  # (no screens: the app is closing)
            key = self._held.popleft()
            self._in_flight, self._since = key, time.monotonic()
            await super().on_event(key)
            if not key.is_forwarded:  # the app's own binding took it (ctrl+p, ctrl+c...): it does not come back
                self._in_flight = None
        if self._held and self._retry is None:
            self._retry = self.set_timer(RETRY_S, self._look_again)

    async def _look_again(self) -> None:
        self._retry = None
        await self._hand_down()

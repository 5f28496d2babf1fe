"""The command palette's list of console actions: every key binding the footer shows.

Building the list from the screen's active bindings keeps the palette, the footer and the help
dialog in step: an action is added once, as a binding, and appears in all three.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from functools import partial

from textual.binding import ActiveBinding
from textual.command import DiscoveryHit, Hit, Hits, Provider


def palette_bindings(bindings: dict[str, ActiveBinding]) -> Iterator[ActiveBinding]:
    """The enabled, shown bindings, once per action, in binding order."""
    seen: set[str] = set()
    for active in bindings.values():
        binding = active.binding
        if binding.show and active.enabled and binding.action not in seen:
            seen.add(binding.action)
            yield active


def key_of(active: ActiveBinding) -> str:
    """The key as the footer shows it."""
    return active.binding.key_display or active.binding.key


class ActionsProvider(Provider):
    """Offers each action of the screen the palette was opened on, with its key."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], Awaitable[bool]]]]:
        for active in palette_bindings(self.screen.active_bindings):
            binding = active.binding
            help_text = f"{active.tooltip or binding.description}  (key: {key_of(active)})"
            run = partial(self.app.run_action, binding.action, active.node)
            yield binding.description, help_text, run

    async def discover(self) -> Hits:
        """Every action, for the palette opened with nothing typed."""
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        """The actions whose name matches ``query``."""
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)

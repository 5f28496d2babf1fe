"""The base of the market panes: Textual's line API over strips built once per change."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from itertools import groupby

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget


class LinesWidget(Widget):
    """A widget drawn from strips that are rebuilt only when what it shows has changed.

    Subclasses say what they show with :meth:`content_key` (a cheap, hashable value such as part
    revisions and the selection) and draw it in :meth:`build_lines`. The owner calls
    :meth:`refresh_if_changed` once per frame: it rebuilds the lines and repaints only those that
    differ, which spares Textual most of its per-line work. A hidden pane is only marked for a
    repaint and builds its lines when it is painted, so it does no work while hidden. Styles are
    looked up once per change of the stylesheet (Textual forgets its own on every refresh).
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._built_for: tuple[Hashable, Size] | None = None
        self._lines: list[Strip] = []
        self._blank = Strip([])
        self._styles: dict[tuple[str, str], Style] = {}
        # Strips of the last build and of this one by content: a line shown before (maybe at
        # another row, as on a scrolling tape) is reused, with the caches Textual keeps in it.
        self._reusable: dict[_StripKey, Strip] = {}
        self._made: dict[_StripKey, Strip] = {}

    def content_key(self) -> Hashable:
        """What is shown: when this changes, the lines are built again."""
        raise NotImplementedError

    def build_lines(self, width: int, height: int) -> list[Strip]:
        """The lines to show at this size (fewer lines are padded with blanks)."""
        raise NotImplementedError

    def refresh_if_changed(self) -> None:
        """Repaint the lines that differ from those shown (none if nothing changed)."""
        size = self.size
        key = (self.content_key(), size)
        built = self._built_for
        if key == built:
            return
        if built is None or built[1] != size or not self.display:
            self.refresh()  # built when painted
            return
        shown = self._lines
        self._build(key)
        lines = self._lines
        changed = [
            y
            for y in range(max(len(shown), len(lines)))
            if y >= len(shown) or y >= len(lines) or shown[y] is not lines[y]
        ]
        for start, count in _runs(changed):
            self.refresh(Region(0, start, size.width, count))

    def render_lines(self, crop: Region) -> list[Strip]:
        key = (self.content_key(), self.size)
        if key != self._built_for:
            self._build(key)
        return super().render_lines(crop)

    def _build(self, key: tuple[Hashable, Size]) -> None:
        width, height = key[1]
        self._reusable, self._made = self._made, {}
        self._lines = self.build_lines(width, height)
        self._blank = Strip.blank(width, self.base_style)
        self._built_for = key

    def render_line(self, y: int) -> Strip:
        return self._lines[y] if y < len(self._lines) else self._blank

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # the theme, the classes or the stylesheet changed
        self._built_for = None

    @property
    def base_style(self) -> Style:
        """The widget's own style (text and background colours)."""
        return self._style("base", "")

    def component_style(self, name: str) -> Style:
        """Component class ``name``'s style, its colours blended over the widget's."""
        return self._style("full", name)

    def component_color(self, name: str) -> Style:
        """Only the text colour of component class ``name`` (to put over another style)."""
        return self._style("color", name)

    def component_background(self, name: str) -> Style:
        """Only the background of component class ``name`` (to put under text)."""
        return self._style("background", name)

    def _style(self, kind: str, name: str) -> Style:
        style = self._styles.get((kind, name))
        if style is None:
            if kind == "base":
                style = self.rich_style
            else:
                full = self.get_component_rich_style(name)
                if kind == "color":
                    style = Style(color=full.color)
                elif kind == "background":
                    style = Style(bgcolor=full.bgcolor)
                else:
                    style = full
            self._styles[kind, name] = style
        return style

    def strip(
        self, parts: Iterable[tuple[str, Style]], width: int, fill: Style | None = None
    ) -> Strip:
        """One line of styled texts, cut or padded to ``width`` cells in ``fill`` (by default
        the widget's style). The texts must be one cell a character (no wide characters), which
        spares measuring them. Equal lines of one build, or of this build and the last, are one
        strip."""
        key = (tuple(parts), width, fill)
        strip = self._made.get(key) or self._reusable.get(key)
        if strip is None:
            segments = []
            room = width
            for text, style in key[0]:
                if text and room > 0:
                    text = text[:room]
                    room -= len(text)
                    segments.append(Segment(text, style))
            if room > 0:
                segments.append(Segment(" " * room, fill or self.base_style))
            strip = Strip(segments, width)
        self._made[key] = strip
        return strip


_StripKey = tuple[tuple[tuple[str, Style], ...], int, Style | None]


def _runs(numbers: list[int]) -> Iterator[tuple[int, int]]:
    """Runs of consecutive ``numbers`` (ascending) as ``(first, count)``."""
    for _, run in groupby(enumerate(numbers), lambda pair: pair[1] - pair[0]):
        values = [number for _, number in run]
        yield values[0], len(values)

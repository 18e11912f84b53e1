"""Small HTML builders, escaped by construction: every text and attribute value goes through html.escape unless it
is Markup this module built. No template engine, so no way to forget an escape in a template."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape


class Markup(str):
    """HTML that this module built (already escaped)."""

    __slots__ = ()


def text(value: object) -> Markup:
    return value if isinstance(value, Markup) else Markup(escape(str(value), quote=True))


def join(children: Iterable[object]) -> Markup:
    parts: list[str] = []
    for child in children:
        if child is None or child is False:
            continue
        if isinstance(child, str):
            parts.append(text(child))
        elif isinstance(child, Iterable):
            parts.append(join(child))
        else:
            parts.append(text(child))
    return Markup("".join(parts))


_VOID = frozenset({"input", "meta", "link", "br", "hr", "img"})


def el(tag: str, attrs: Mapping[str, object] | None = None, *children: object) -> Markup:
    """<tag attrs>children</tag>; an attribute that is None or False is left out, True is written bare."""
    rendered = []
    for name, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        attribute = name.rstrip("_").replace("_", "-")
        rendered.append(f" {attribute}" if value is True else f' {attribute}="{text(value)}"')
    opening = f"<{tag}{''.join(rendered)}>"
    if tag in _VOID:
        return Markup(opening)
    return Markup(f"{opening}{join(children)}</{tag}>")


def table(headers: Iterable[str], rows: Iterable[Iterable[object]], **attrs: object) -> Markup:
    head = el("thead", None, el("tr", None, [el("th", None, header) for header in headers]))
    body = el("tbody", None, [el("tr", None, [el("td", None, cell) for cell in row]) for row in rows])
    return el("table", attrs, head, body)

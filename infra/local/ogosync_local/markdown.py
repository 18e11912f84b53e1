"""Markdown for the measurement tables that `make bench` and `make chaos` write into docs/."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines)


def replace_section(path: Path, name: str, text: str) -> None:
    """Put `text` between `<!-- name:begin -->` and `<!-- name:end -->` in the file (appended when missing)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    document = path.read_text() if path.exists() else ""
    block = f"{begin}\n{text}\n{end}"
    if begin in document and end in document:
        head, _, rest = document.partition(begin)
        _, _, tail = rest.partition(end)
        document = head + block + tail
    else:
        document = document.rstrip("\n") + ("\n\n" if document else "") + block + "\n"
    path.write_text(document)

"""A tiny HTML reader for the report tests (stdlib html.parser): tables, images, links."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Cell:
    attrs: dict[str, str]
    text: str = ""


@dataclass
class Page(HTMLParser):
    """Everything a test asks of a page: body rows by table class, images, ids, headings."""

    tables: dict[str, list[tuple[dict[str, str], list[Cell]]]] = field(default_factory=dict)
    images: list[dict[str, str]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    _table: str | None = None
    _part: str = ""
    _row: list[Cell] | None = None
    _cell: Cell | None = None
    _heading: list[str] | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.append(values["id"])
        self.urls += [values[k] for k in ("src", "href") if k in values]
        if tag == "img":
            self.images.append(values)
        elif tag == "table":
            self._table = values.get("class", "")
            self.tables.setdefault(self._table, [])
        elif tag in ("thead", "tbody"):
            self._part = tag
        elif tag == "tr" and self._table is not None:
            self._row = []
            if self._part == "tbody":
                self.tables[self._table].append((values, self._row))
        elif tag in ("td", "th") and self._row is not None:
            self._cell = Cell(values)
            self._row.append(self._cell)
        elif tag == "h2":
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th"):
            self._cell = None
        elif tag == "h2" and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.text += data
        if self._heading is not None:
            self._heading.append(data)

    def rows(self, table: str) -> list[tuple[dict[str, str], list[Cell]]]:
        """The body rows (tbody) of the table with this class: (tr attributes, cells)."""
        return self.tables.get(table, [])


def read(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page

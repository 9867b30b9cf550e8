"""Reading the figures back out of a reports page, as a reader would see them."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Figure:
    rows: list[tuple[str, list[str]]] = field(default_factory=list)  # (label, shown counts)
    links: dict[str, str] = field(default_factory=dict)  # label → href
    chart: list[str] = field(default_factory=list)  # the numbers written in the chart

    def counts(self) -> dict[str, list[str]]:
        return dict(self.rows)


class _FigureParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.figures: dict[str, Figure] = {}
        self.current: Figure | None = None
        self.row: tuple[str, list[str]] | None = None
        self.capture: str | None = None  # "label", "count" or "chart"
        self.text = ""
        self.href = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and (attrs.get("id") or "").startswith("figure-"):
            self.current = self.figures.setdefault(attrs["id"].removeprefix("figure-"), Figure())
        if self.current is None:
            return
        if tag == "tr":
            self.row = ("", [])
        elif tag == "th" and attrs.get("scope") == "row":
            self.capture, self.text, self.href = "label", "", ""
        elif tag == "a" and self.capture == "label":
            self.href = attrs.get("href", "")
        elif tag == "td" and "data-count" in attrs:
            self.capture, self.text = "count", ""
        elif tag == "text" and "chart__value" in (attrs.get("class") or ""):
            self.capture, self.text = "chart", ""

    def handle_data(self, data):
        if self.capture:
            self.text += data

    def handle_endtag(self, tag):
        if self.current is None:
            return
        if tag == "th" and self.capture == "label":
            self.row = (self.text.strip(), self.row[1])
            if self.href:
                self.current.links[self.text.strip()] = self.href
            self.capture = None
        elif tag == "td" and self.capture == "count":
            self.row[1].append(self.text.strip())
            self.capture = None
        elif tag == "text" and self.capture == "chart":
            self.current.chart.append(self.text.strip())
            self.capture = None
        elif tag == "tr" and self.row and self.row[0]:
            self.current.rows.append(self.row)
            self.row = None
        elif tag == "section":
            self.current = None


def figures_of(page: str) -> dict[str, Figure]:
    parser = _FigureParser()
    parser.feed(page)
    return parser.figures

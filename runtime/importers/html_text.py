"""HTML replies (Gemini Takeout) → plain text with light markdown, using only html.parser.

Vendors render the model's markdown to HTML in their exports; turning it back into the same
light markdown (paragraphs, `- ` lists, `**bold**`, fenced code) gives text that reads like the
reply did in the app, and like the replies of every other importer. Entities are decoded,
`<script>`/`<style>` dropped, whitespace collapsed except inside `<pre>`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset(
    {"p", "div", "section", "article", "header", "footer", "blockquote", "table", "tr",
     "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "pre", "hr", "figure", "dl", "dt", "dd"}
)  # fmt: skip
_HIDDEN = frozenset({"script", "style", "head", "title", "template"})
_INLINE_MARKS = {"b": "**", "strong": "**", "i": "*", "em": "*", "code": "`"}
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


class _TextBuilder(HTMLParser):
    """Collects text as a list of lines; blocks start new lines, paragraphs blank lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int | None]] = []  # per open list: [next number] or [None] for ul
        self.hidden = 0
        self.pre = 0
        self.cells_in_row = 0

    # --- output helpers -------------------------------------------------------------------

    def _text(self) -> str:
        return "".join(self.out)

    def _break(self, blank: bool) -> None:
        """End the current line; with `blank`, leave an empty line (a paragraph break)."""
        text = self._text()
        if not text:
            return
        wanted = "\n\n" if blank else "\n"
        stripped = text.rstrip(" ")
        trailing = len(stripped) - len(stripped.rstrip("\n"))
        if trailing < len(wanted):
            self.out = [stripped, "\n" * (len(wanted) - trailing)]

    def _write(self, text: str) -> None:
        self.out.append(text)

    # --- parser callbacks -----------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
            return
        if tag == "br":
            self._write("\n")
        elif tag in ("ul", "ol"):
            self._break(blank=not self.lists)
            self.lists.append([1 if tag == "ol" else None])
        elif tag == "li":
            self._break(blank=False)
            depth = max(len(self.lists) - 1, 0)
            counter = self.lists[-1] if self.lists else [None]
            bullet = "- " if counter[0] is None else f"{counter[0]}. "
            if counter[0] is not None:
                counter[0] += 1
            self._write("  " * depth + bullet)
        elif tag == "pre":
            self._break(blank=True)
            self._write("```\n")
            self.pre += 1
        elif tag in ("td", "th"):
            if self.cells_in_row:
                self._write(" | ")
            self.cells_in_row += 1
        elif tag == "tr":
            self._break(blank=False)
            self.cells_in_row = 0
        elif tag == "hr":
            self._break(blank=True)
            self._write("---")
            self._break(blank=True)
        elif tag in _BLOCKS:
            self._break(blank=tag not in ("div", "dt", "dd"))
            if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
                self._write("#" * int(tag[1]) + " ")
        elif tag in _INLINE_MARKS and not (tag == "code" and self.pre):
            self._write(_INLINE_MARKS[tag])

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
            return
        if tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._break(blank=not self.lists)
        elif tag == "pre":
            if self.pre:
                self.pre -= 1
                if not self._text().endswith("\n"):
                    self._write("\n")
                self._write("```")
            self._break(blank=True)
        elif tag == "li" or tag == "tr":
            self._break(blank=False)
        elif tag in _BLOCKS:
            self._break(blank=tag not in ("div", "dt", "dd"))
        elif tag in _INLINE_MARKS and not (tag == "code" and self.pre):
            self._write(_INLINE_MARKS[tag])

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if self.pre:
            self._write(data)
            return
        text = _SPACES.sub(" ", data)
        # Whitespace at the start of a line is layout of the HTML source, not text.
        current = self._text()
        if not current or current.endswith(("\n", " ")):
            text = text.lstrip(" ")
        if text:
            self._write(text)


def html_to_text(html: str) -> str:
    """Readable text of an HTML fragment (see the module docstring); "" for no text."""
    builder = _TextBuilder()
    builder.feed(html)
    builder.close()
    lines = [line.rstrip() for line in builder._text().split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n").strip()

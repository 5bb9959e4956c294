"""HTML mail bodies to plain text, dropping quoted replies, scripts and styles."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
          "blockquote", "hr", "section", "article", "header", "footer", "pre"}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}


def _is_quote(tag: str, attrs: dict[str, str | None]) -> bool:
    """Quoted earlier replies as Gmail, Apple Mail and Outlook mark them up."""
    classes = (attrs.get("class") or "").lower()
    ident = (attrs.get("id") or "").lower()
    if tag == "blockquote" and (attrs.get("type") or "").lower() == "cite":
        return True
    return ("gmail_quote" in classes or "yahoo_quoted" in classes or ident in {"divrplyfwdmsg", "appendonsend"}
            or "moz-cite-prefix" in classes)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.stack: list[tuple[str, bool]] = []
        self.quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        quote = _is_quote(tag, dict(attrs))
        if tag in _SKIP:
            self.skip_depth += 1
        if tag not in _VOID:
            self.stack.append((tag, quote))
            if quote:
                self.quote_depth += 1
        if tag in _BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skip_depth:
            self.skip_depth -= 1
        # pop to the matching open tag, tolerating unclosed elements
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for _, quote in self.stack[i:]:
                    if quote:
                        self.quote_depth -= 1
                del self.stack[i:]
                break
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth or self.quote_depth:
            return
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable text from an HTML body; quoted earlier replies are left out."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # a hostile document: strip tags the blunt way
        text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    text = text.replace("\xa0", " ")
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()

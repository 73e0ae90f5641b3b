"""`components.format.escape` by one C-level `str.replace` per special gives exactly what the per-character
generator gave.

The old body is kept here as the reference: escaping is a security boundary (a service name must never become a
link, LaTeX or HTML), so a faster version has to be the same function, not a similar one."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from components.format import _REFERENCE, MARKDOWN_SPECIALS, escape


def old_escape(text: object) -> str:
    out = _REFERENCE.sub("&amp;", str(text)).replace("<", "&lt;").replace(">", "&gt;")
    return "".join("\\" + ch if ch in MARKDOWN_SPECIALS else ch for ch in out)


TRICKY = [
    "", "plain", "Burnley & Pendle", "Women's Aid", "**bold** _it_ `code` ~~del~~", "# heading\n- list\n1. item",
    "[link](http://x.y) ![img](a.png) www.example.com", "$x^2$ costs $5 and $$y$$", ":red[alert] :material/home:",
    "<script>alert('x')</script>", "&lt; &amp; &#60; &#x3C; &nbsp; & ;", "a\\b\\\\c", "line one\nline two\r\n\tend",
    "| a | b |\n|---|---|", "{}[]()#+-.!|~", "ünïcödé — “quotes” £1.28m 10.9%", "\x00\x1f", 12345, 1.5, None,
]


def test_escape_matches_the_old_generator_on_tricky_strings() -> None:
    for text in TRICKY:
        assert escape(text) == old_escape(text), text


def test_escape_examples() -> None:
    assert escape("Burnley & Pendle") == "Burnley & Pendle"
    assert escape("<b>$5</b>") == "&lt;b&gt;\\$5&lt;/b&gt;"
    assert escape("&lt;") == "&amp;lt;"
    assert escape("http://x") == "http\\://x"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(sorted(MARKDOWN_SPECIALS) + list(string.printable) + ["&", ";", "é", "\n"]),
               max_size=60))
def test_escape_matches_the_old_generator_on_any_text(text: str) -> None:
    assert escape(text) == old_escape(text)

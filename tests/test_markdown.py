"""Outside text in a Markdown comment (core.markdown.inline): whatever a test name or a
list's reason holds, it renders as itself, on one line of one table cell."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from snoopdb.core.markdown import inline
from snoopdb.core.terminal import shown

_TOKEN = re.compile(r"\\(.)|&(amp|lt|gt|#64);", re.S)
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "#64": "@"}
SPECIAL = set("\\`*_{}[]()#+-.!|~<>&@")


def decoded(markdown: str) -> str:
    """The text Markdown shows for what inline writes: its escapes and references read."""
    return _TOKEN.sub(lambda m: m[1] if m[1] is not None else _ENTITIES[m[2]], markdown)


@given(st.text())
def test_any_text_renders_as_itself_and_nothing_else(text: str) -> None:
    written = inline(text)
    assert decoded(written) == shown(text)
    # outside the escapes and references, no character Markdown or HTML acts on, and
    # none a terminal acts on
    bare = _TOKEN.sub("", written)
    assert not SPECIAL & set(bare)
    assert shown(written) == written and "\n" not in written


def test_a_hostile_test_name() -> None:
    assert inline("[x](http://a) | <b>@team</b>\x1b[2J") == (
        r"\[x\]\(http://a\) \| &lt;b&gt;&#64;team&lt;/b&gt;\\x1b\[2J")

"""junit_01.xml, streamed into testcases as the bot's Go decoder reads it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.parsers import expat

from snoopdb.certification.submission import Testcase
from snoopdb.core.errors import InputError

CHUNK = 1 << 16
# The largest piece of markup read: a tag with its attributes, a comment, a processing
# instruction. expat keeps an unfinished one whole, and scans it again with every chunk
# that does not finish it, so one 150 MB attribute cost minutes and gigabytes; real
# testcase tags are under a few KB (Ginkgo cuts failure messages to a few thousand).
MAX_MARKUP = 1 << 20

# The bot "un-escapes" these in testcase names before comparing them with conformance.yaml.
_BOT_NAME_FIXES = (("&#39;", "'"), ("&#34;", '"'), ("&gt;", ">"),
                   ("'cat /tmp/health'", '"cat /tmp/health"'))

# Whole pieces of XML from the start of a buffer, text or markup: where the match ends,
# a piece of markup is unfinished, or a CDATA section starts. A quoted attribute value
# is skipped whole, so a ">" in it ends nothing; "<" cannot be in one, so a tag never
# hides another's start. (expat streams text and CDATA sections, and keeps each piece of
# markup whole until it ends.)
_PIECE = rb"""
    [^<]++
  | <!--.*?-->
  | <\?.*?\?>
  | <(?!!--|!\[CDATA\[|\?)(?:[^"'>]++|"[^"]*+"|'[^']*+')*+>
"""
_ONE = re.compile(_PIECE, re.DOTALL | re.VERBOSE)
_WHOLE = re.compile(rb"(?:" + _PIECE + rb")*+", re.DOTALL | re.VERBOSE)
_CDATA_START, _CDATA_END = b"<![CDATA[", b"]]>"


class TagTooLarge(InputError):
    """junit_01.xml holds a piece of markup larger than MAX_MARKUP: snoopdb does not read
    it (the bot would), so it cannot judge the submission."""


def read_junit(source: Path | IO[bytes], origin: str = "junit_01.xml") -> Iterator[Testcase]:
    """The testcases of a junit XML file, streamed with expat (no tree is built: memory
    stays flat whatever the number of testcases), read as the bot's Go decoder reads
    them: the root must be <testsuites>; its <testsuite> children's <testcase> children
    count; anything after the root element is ignored; a DTD entity is refused.
    InputError (naming `origin`) when the bot could not read it either; TagTooLarge when
    a tag, comment or processing instruction is larger than MAX_MARKUP bytes."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            yield from read_junit(stream, origin)
        return
    reader = _JunitReader(origin)
    bound = _MarkupBound(origin)
    while not reader.done:
        chunk = source.read(CHUNK)
        bound.check(chunk)
        reader.feed(chunk, final=not chunk)
        yield from reader.cases
        reader.cases.clear()
        if not chunk:
            break


class _MarkupBound:
    """Follows the XML fed to expat, and refuses it before expat holds a piece of markup
    larger than MAX_MARKUP: only the unfinished piece is kept here (at most MAX_MARKUP)."""

    def __init__(self, origin: str):
        self.origin = origin
        self.pending = b""
        self.in_cdata = False
        self.line = 1

    def check(self, chunk: bytes) -> None:
        buffer = self.pending + chunk
        if self.pending and not self.in_cdata:
            # markup larger than a chunk was pending at the last one: it may end here
            first = _ONE.match(buffer)
            if first is not None and first.end() > MAX_MARKUP:
                self._refuse()
        position = 0
        while True:
            if self.in_cdata:
                end = buffer.find(_CDATA_END, position)
                if end < 0:  # keep what may begin "]]>"
                    self._advance(buffer, position, max(position, len(buffer) - 2))
                    return
                position = self._advance(buffer, position, end + len(_CDATA_END))
                self.in_cdata = False
            whole = _WHOLE.match(buffer, position)
            assert whole is not None, "the pattern matches the empty string"
            position = self._advance(buffer, position, whole.end())
            if not buffer.startswith(_CDATA_START, position):
                break
            self.in_cdata = True
            position += len(_CDATA_START)
        self.pending = buffer[position:]
        if len(self.pending) > MAX_MARKUP:
            self._refuse()

    def _refuse(self) -> None:
        raise TagTooLarge(f"{self.origin}: markup of more than {MAX_MARKUP} bytes from line"
                          f" {self.line} ({self.pending[:40].decode(errors='replace')!r}…);"
                          f" snoopdb reads tags, comments and instructions up to"
                          f" {MAX_MARKUP >> 20} MiB")

    def _advance(self, buffer: bytes, start: int, end: int) -> int:
        """Count the lines of buffer[start:end], read; keep what follows; returns `end`."""
        self.line += buffer.count(b"\n", start, end)
        self.pending = buffer[end:]
        return end


class _JunitReader:
    def __init__(self, origin: str):
        self.origin = origin
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.EntityDeclHandler = self._entity
        self.parser.XmlDeclHandler = self._declaration
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.cases: list[Testcase] = []
        self.path: list[str] = []
        self.name: str | None = None
        self.children: set[str] = set()
        self.done = False

    def feed(self, chunk: bytes, final: bool) -> None:
        try:
            self.parser.Parse(chunk, final)
        except expat.ExpatError as exc:
            if self.done:  # trailing content after the root element: Go never reads it
                return
            raise InputError(f"{self.origin}: not well-formed XML: {exc}") from exc
        if final and not self.done:
            raise InputError(f"{self.origin}: not well-formed XML: no root element")

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        if self.done:
            return
        local = tag.rpartition(":")[2]
        depth = len(self.path)
        if depth == 0 and local != "testsuites":
            raise InputError(f"{self.origin}: expected element type <testsuites> but have"
                             f" <{local}>")
        self.path.append(local)
        if depth == 2 and local == "testcase" and self.path[1] == "testsuite":
            self.name = attributes.get("name", "")
            self.children = set()
        elif depth == 3 and self.name is not None:
            self.children.add(local)

    def _end(self, tag: str) -> None:
        if self.done:
            return
        self.path.pop()
        if len(self.path) == 2 and self.name is not None:
            self.cases.append(Testcase(_bot_name(self.name), _status(self.children)))
            self.name = None
        elif not self.path:
            self.done = True

    def _entity(self, name: str, *_: object) -> None:
        raise InputError(f"{self.origin}: declares the XML entity {name!r}; entities are"
                         " not read")

    def _declaration(self, version: str, encoding: str | None, standalone: int) -> None:
        if encoding and encoding.lower() != "utf-8":
            raise InputError(f"{self.origin}: encoding {encoding!r} declared; the bot reads"
                             " UTF-8 only")


def _bot_name(name: str) -> str:
    for old, new in _BOT_NAME_FIXES:
        name = name.replace(old, new)
    # Ginkgo v2 prefixes spec names with the node type; conformance.yaml does not.
    return name.removeprefix("[It] ")


def _status(children: set[str]) -> str:
    # the bot ignores a skipped testcase whatever else it holds
    if "skipped" in children:
        return "skipped"
    if "failure" in children:
        return "failed"
    if "error" in children:
        return "errored"
    return "passed"


_EARLY_END = frozenset({"unclosed token", "no element found"})
_XML_PROBLEM = re.compile(r"[^:]*: not well-formed XML: (.*): line (\d+), column \d+")


def bot_xml_error(exc: InputError) -> str:
    """What the bot's Go XML decoder says of a junit_01.xml that `read_junit` refused:
    the same words for a root that is not <testsuites>; for XML that is not well-formed,
    expat's problem on Go's line."""
    text = str(exc)
    found = _XML_PROBLEM.fullmatch(text)
    if found:
        # expat's words for a file that ends early; Go says it ran out
        problem = "unexpected EOF" if found[1] in _EARLY_END else found[1]
        return f"XML syntax error on line {found[2]}: {problem}"
    return text.split(": ", 1)[1] if ": " in text else text

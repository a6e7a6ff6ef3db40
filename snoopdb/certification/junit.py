"""junit_01.xml, streamed into testcases as the bot's Go decoder reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.parsers import expat

from snoopdb.certification.submission import Testcase
from snoopdb.core.errors import InputError

CHUNK = 1 << 16

# The bot "un-escapes" these in testcase names before comparing them with conformance.yaml.
_BOT_NAME_FIXES = (("&#39;", "'"), ("&#34;", '"'), ("&gt;", ">"),
                   ("'cat /tmp/health'", '"cat /tmp/health"'))


def read_junit(source: Path | IO[bytes], origin: str = "junit_01.xml") -> Iterator[Testcase]:
    """The testcases of a junit XML file, streamed with expat (no tree is built: memory
    stays flat whatever the number of testcases), read as the bot's Go decoder reads
    them: the root must be <testsuites>; its <testsuite> children's <testcase> children
    count; anything after the root element is ignored; a DTD entity is refused.
    InputError (naming `origin`) when the bot could not read it either."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            yield from read_junit(stream, origin)
        return
    reader = _JunitReader(origin)
    while not reader.done:
        chunk = source.read(CHUNK)
        reader.feed(chunk, final=not chunk)
        yield from reader.cases
        reader.cases.clear()
        if not chunk:
            break


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

"""The README is a front door and docs/ holds the rest: every link between the pages
(relative paths and #anchors) resolves, every page of docs/ is reachable from the
README, and .ci/run runs the test command the README gives."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target), an optional "title" after the target
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']*)["']""")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose(page: Path) -> list[tuple[int, str]]:
    """The page's lines outside fenced code blocks, numbered from 1."""
    lines, fenced = [], False
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text as rendered (no code marks, link
    text only, no emphasis), lower-cased, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("**", "").replace("__", "")
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for _, line in prose(page):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            name, n = base, 0
            while name in found:  # GitHub numbers a heading's repeats: x, x-1, x-2
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def links(page: Path) -> list[tuple[int, str]]:
    """Every relative link of the page (no scheme: not http:, mailto:, …), with its line."""
    found = []
    for number, line in prose(page):
        text = CODE_SPAN.sub("", line)
        for pattern in (MARKDOWN_LINK, HTML_LINK):
            found += [(number, target) for target in pattern.findall(text)
                      if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)]
    return found


def resolve(page: Path, target: str) -> tuple[Path, str]:
    path, _, anchor = target.partition("#")
    return (page if not path else (page.parent / path).resolve()), anchor


def broken(page: Path, root: Path = REPO) -> list[str]:
    """Each link of `page` that names no file under `root`, or no heading of its page."""
    problems = []
    for number, target in links(page):
        where = f"{page.relative_to(root)}:{number}: {target}"
        path, anchor = resolve(page, target)
        if not target or not path.is_relative_to(root) or not path.exists():
            problems.append(f"{where}: no such file")
        elif anchor and (path.suffix != ".md" or anchor not in anchors(path)):
            problems.append(f"{where}: no heading #{anchor} in {path.relative_to(root)}")
    return problems


def reachable(start: Path) -> set[Path]:
    """The pages reached from `start` by following links to Markdown pages."""
    reached, todo = {start}, [start]
    while todo:
        page = todo.pop()
        for _, target in links(page):
            path, _ = resolve(page, target)
            if path.suffix == ".md" and path.exists() and path not in reached:
                reached.add(path)
                todo.append(path)
    return reached


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_resolves(page: Path) -> None:
    assert broken(page) == []


def test_every_page_of_docs_is_reachable_from_the_readme() -> None:
    reached = reachable(README)
    assert [str(p.relative_to(REPO)) for p in PAGES if p not in reached] == []


def test_the_readme_stays_a_front_door() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 250
    # the first picture of the product comes before the quick start
    picture = next(n for n, line in enumerate(lines) if "docs/screenshots/" in line)
    assert picture < lines.index("## Quick start")


def test_ci_runs_the_readme_test_command() -> None:
    """The README's Tests block (make a virtualenv, install with the test extra, run
    pytest) is what .ci/run does, in that order and last, pip's -q aside."""
    text = README.read_text()
    block = text[text.index("### Tests"):]
    block = block[block.index("```sh\n") + len("```sh\n"):]
    block = block[:block.index("```")]
    readme = [[word for word in shlex.split(step) if word != "-q"]
              for line in block.splitlines() for step in line.split("&&")]
    script = (REPO / ".ci" / "run").read_text().replace("\\\n", " ")
    ci = [[word for word in shlex.split(line) if word != "-q"]
          for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert readme == [["python3", "-m", "venv", ".venv"], [".", ".venv/bin/activate"],
                      ["pip", "install", ".[test]"], ["pytest"]]
    start = ci.index(readme[0])
    assert [step for step in ci[start:] if step in readme] == readme
    assert ci[-1] == readme[-1]  # the tests are the last thing CI runs


def test_slugs_are_githubs() -> None:
    assert slug("Offline: a mirror") == "offline-a-mirror"
    assert slug("`snoopdb runs`") == "snoopdb-runs"
    assert slug("HTTP clients: `serve` and `auditlogger`") == "http-clients-serve-and-auditlogger"
    assert slug("`<release>-fields.json`") == "release-fieldsjson"
    assert slug("Measured (2 cores; 1–2 KB)") == "measured-2-cores-12-kb"


def test_the_checker_finds_what_is_broken(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(
        "# A page\n\n## Same\n\n## Same\n\n```sh\n# not a heading\n```\n")
    (tmp_path / "docs" / "lost.md").write_text("# Lost\n")
    readme = tmp_path / "README.md"
    readme.write_text(
        "[ok](docs/a.md#same-1) [no file](docs/missing.md) [no heading](docs/a.md#nope)\n"
        "[not a heading](docs/a.md#not-a-heading) [out](../outside.md) [self](#top)\n"
        "`[in code](docs/missing.md)` [web](https://example.com/x.md)\n"
        '<img src="docs/none.png"> <a href="docs/a.md#a-page">a</a>\n'
        "```\n[fenced](docs/missing.md)\n```\n")
    assert broken(readme, tmp_path) == [
        "README.md:1: docs/missing.md: no such file",
        "README.md:1: docs/a.md#nope: no heading #nope in docs/a.md",
        "README.md:2: docs/a.md#not-a-heading: no heading #not-a-heading in docs/a.md",
        "README.md:2: ../outside.md: no such file",
        "README.md:2: #top: no heading #top in README.md",
        "README.md:4: docs/none.png: no such file",
    ]
    assert reachable(readme) == {readme, tmp_path / "docs" / "a.md"}

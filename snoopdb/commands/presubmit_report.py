"""What `snoopdb presubmit` writes: Markdown for a pull request's comment (a short
summary, the details folded in `<details>`), and JUnit XML for testgrid. Every name
from outside — operations, paths, tests, reasons, runs — goes through
core.markdown.inline in the Markdown, whose text is then safe on a terminal too."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from snoopdb.commands.presubmit import OperationChange, Reach, Result
from snoopdb.core.markdown import inline
from snoopdb.core.wording import plural

VERDICT = {"pass": "PASS", "fail": "FAIL", "undecided": "CANNOT DECIDE"}


def markdown(result: Result) -> str:
    """The pull request's comment."""
    lines = [f"### snoopdb presubmit: {VERDICT[result.status]}", ""]
    if result.problem is not None:
        return "\n".join([*lines, inline(result.problem), ""])
    lines += [_verdict(result), "", "| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in _summary(result)]
    share = f"{result.min_share:.0%}"
    lines += ["", f"Base {inline(result.base)}, head {inline(result.head)}; the pull "
              f"request's run {inline(result.run)} ({plural(result.events, 'event')}); "
              f"baseline {_names(result.baseline)} (an operation counts as reached when "
              f"conformance tests hit it in at least {share} of these runs)."]
    lines += _details(f"Operations the pull request adds, removes or changes in level "
                      f"({len(result.changes)})",
                      ["operation", "change", "level", "state", "conformance tests of the run"],
                      [_change_row(c) for c in result.changes])
    for kind, title in (("gained", "reached by the run's conformance tests, not the "
                                   "baseline's"),
                        ("lost", "reached by the baseline's conformance tests, not the "
                                 "run's"),
                        ("flaky", "reached in only some baseline runs, not by the run "
                                  "(flaky: not counted)"),
                        ("removed", "reached by the baseline, removed by the pull request")):
        reached = result.reached(kind)
        if reached or kind in ("gained", "lost"):
            lines += _details(f"Operations {kind} ({len(reached)}): {title}",
                              ["operation", "baseline runs", "tests"],
                              [_reach_row(r) for r in reached])
    lines += _details(f"Conformance tests the pull request adds ({len(result.tests)})",
                      ["test", "release", "operations it hits in the run"],
                      [[inline(t.codename), inline(t.release), _names(t.endpoints)]
                       for t in result.tests])
    return "\n".join(lines) + "\n"


def _verdict(result: Result) -> str:
    untested, lost = result.untested, result.reached("lost")
    if result.status == "pass":
        return ("**PASS**: every new stable, eligible operation is hit by a conformance "
                "test of the run or pending, and no operation is lost.")
    reasons = []
    if untested:
        reasons.append(f"no conformance test of the run hits "
                       f"{plural(len(untested), 'new stable, eligible operation')} not on "
                       f"the pending list ({_names(c.endpoint for c in untested)})")
    if lost:
        reasons.append(f"{plural(len(lost), 'operation')} lost "
                       f"({_names(r.endpoint for r in lost)})")
    return "**FAIL**: " + "; ".join(reasons) + "."


def _summary(result: Result) -> list[tuple[str, str]]:
    by_change = {change: sum(c.change == change for c in result.changes)
                 for change in ("added", "removed", "level")}
    states: dict[str, int] = {}
    for c in result.changes:
        if c.change != "removed":
            states[c.state] = states.get(c.state, 0) + 1
    rows = [("operations added, removed, changed in level",
             f"{by_change['added']}, {by_change['removed']}, {by_change['level']}"),
            ("their states", ", ".join(f"{n} {inline(state)}" for state, n in sorted(
                states.items())) or "none"),
            ("new stable, eligible operations no conformance test hits",
             _names(c.endpoint for c in result.untested) or "none"),
            ("operations gained / lost / flaky (not counted)",
             " / ".join(str(len(result.reached(k))) for k in ("gained", "lost", "flaky"))),
            ("conformance tests added", str(len(result.tests)))]
    coverage = result.coverage
    if coverage is not None:
        rows.append(("eligible operations conformance tests reach",
                     f"{_share(coverage.before_tested, coverage.before_total)} → "
                     f"{_share(coverage.after_tested, coverage.after_total)} "
                     f"({coverage.change:+d})"))
    return rows


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole}" + (f" ({part / whole:.1%})" if whole else "")


def _change_row(c: OperationChange) -> list[str]:
    level = (inline(c.level or "") if c.change != "level"
             else f"{inline(c.was_level or '')} → {inline(c.level or '')}")
    state = f"**{inline(c.state)}**" if c.fails else inline(c.state)
    tests = _names(c.tests)
    if c.other_tests:
        tests += ("; " if tests else "") + "only other tests: " + _names(c.other_tests)
    return [f"{inline(c.endpoint)}<br>{inline(c.method.upper())} {inline(c.path)}",
            c.change, level or "—", state, tests or "none"]


def _reach_row(r: Reach) -> list[str]:
    runs = f"{r.baseline_runs} of {r.runs}" + (" (flaky)" if r.flaky else "")
    return [inline(r.endpoint), runs, _names(r.tests) or "none"]


def _names(names: Iterable[str]) -> str:
    return ", ".join(map(inline, names))


def _details(summary: str, header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["", f"<details><summary>{summary}</summary>", ""]
    if rows:
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        lines.append("None.")
    return [*lines, "", "</details>"]


def junit(result: Result) -> str:
    """JUnit XML for testgrid: one testcase per new (or newly stable) eligible
    operation — a failure when no conformance test hits it and it is not pending,
    skipped when pending — and one per lost operation, a failure; flaky ones, in
    their own suite, pass with the warning in system-err."""
    eligible = [c for c in result.changes if c.change != "removed"
                and (c.eligible or c.reason == "pending")]
    lost, flaky = result.reached("lost"), result.reached("flaky")
    suites = ET.Element("testsuites", {
        "name": "snoopdb presubmit", "tests": str(len(eligible) + len(lost) + len(flaky)),
        "failures": str(len(result.untested) + len(lost)), "errors": "0",
        "skipped": str(sum(c.state == "pending" for c in eligible))})
    new = ET.SubElement(suites, "testsuite", {
        "name": "new eligible operations", "tests": str(len(eligible)),
        "failures": str(len(result.untested)), "errors": "0",
        "skipped": str(sum(c.state == "pending" for c in eligible))})
    for c in eligible:
        case = ET.SubElement(new, "testcase", {"classname": "snoopdb.presubmit.operations",
                                               "name": c.endpoint})
        if c.fails:
            ET.SubElement(case, "failure", {
                "type": "untested", "message": "no conformance test of the run hits it, and "
                "the pending list does not name it"}).text = f"{c.method.upper()} {c.path}"
        elif c.state == "pending":
            ET.SubElement(case, "skipped", {"message": "pending: allowed to wait for a test"})
        else:
            ET.SubElement(case, "system-out").text = "tested by " + ", ".join(c.tests)
    reached = ET.SubElement(suites, "testsuite", {
        "name": "conformance coverage against the baseline", "tests": str(len(lost) + len(flaky)),
        "failures": str(len(lost)), "errors": "0", "skipped": "0"})
    for r in (*lost, *flaky):
        case = ET.SubElement(reached, "testcase", {"classname": f"snoopdb.presubmit.{r.kind}",
                                                   "name": r.endpoint})
        why = (f"conformance tests reached it in {r.baseline_runs} of {r.runs} baseline runs, "
               "not in the pull request's run")
        if r.kind == "lost":
            ET.SubElement(case, "failure", {"type": "lost", "message": why})
        else:
            ET.SubElement(case, "system-err").text = f"warning (flaky, not counted): {why}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"

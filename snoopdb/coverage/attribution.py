"""Who gets credit for an audit event: the test named in its user agent, plus the
declared fixes for events a component makes on a test's behalf."""

from __future__ import annotations

import re
from dataclasses import dataclass

TEST_AGENT_PREFIX = "e2e.test"
TEST_SEPARATOR = " -- "
CONFORMANCE_TAG = "[Conformance]"
# A test name goes into btree indexes (the events' test column, the summaries), which
# take at most about 2.7 kB a key: longer names (no real test has one; the longest
# conformance codename is under 300 characters) are cut there and end in "…". The
# whole user agent stays in `useragent` and in the event's data.
TEST_NAME_LIMIT = 512
CUT_MARK = "…"
NO_TEST_NAME = "(e2e.test, no test name)"


def bounded_test(name: str) -> str:
    """A test name as stored: whole up to TEST_NAME_LIMIT characters, else cut there
    and marked (revision 0010 applies the same rule to names loaded before)."""
    return name if len(name) <= TEST_NAME_LIMIT else name[:TEST_NAME_LIMIT] + CUT_MARK


def shown_test(name: str) -> str:
    """A test name as pages and lines show it: '' (an e2e.test user agent that names
    no test, see `classify`) as NO_TEST_NAME, so that it never prints as nothing."""
    return name or NO_TEST_NAME


def classify(useragent: str | None) -> tuple[str | None, bool, bool]:
    """(test, test_hit, conf_test_hit) of a user agent, as snoopDB derives them.

    The test is everything after the first ` -- `, kept whole even when the name
    itself contains `--` (apisnoop splits on every `--` and so truncates such
    names, which then never match their conformance.yaml codename).
    """
    if not useragent:
        return None, False, False
    conf = CONFORMANCE_TAG in useragent
    if not useragent.startswith(TEST_AGENT_PREFIX):
        return None, False, conf
    _, separator, name = useragent.partition(TEST_SEPARATOR)
    return (bounded_test(name.strip()) if separator else ""), True, conf


@dataclass(frozen=True)
class Reattribution:
    """Events of `endpoint` from a user agent starting with `agent_prefix` on a URI
    matching `uri` are credited to conformance test `test`."""

    endpoint: str
    agent_prefix: str
    uri: re.Pattern[str]
    test: str
    why: str


# Every attribution fix, in one place; applied by the loaders at load time.
REATTRIBUTIONS: tuple[Reattribution, ...] = (
    Reattribution(
        endpoint="createCoreV1NamespacedPodBinding",
        agent_prefix="kube-scheduler",
        uri=re.compile(r"^/api/v1/namespaces/pods-[^/]+/pods/test-pod-[^/]+/binding(\?|$)"),
        test="[sig-node] Pods should delete a collection of pods [Conformance]",
        why="the scheduler, not the test, binds the test's pods",
    ),
)
_BY_ENDPOINT = {rule.endpoint: rule for rule in REATTRIBUTIONS}


def reattribute(endpoint: str | None, useragent: str | None, uri: str) -> str | None:
    """The test a declared fix credits this event to, or None."""
    rule = _BY_ENDPOINT.get(endpoint) if endpoint else None
    if rule and useragent and useragent.startswith(rule.agent_prefix) and rule.uri.match(uri):
        return rule.test
    return None

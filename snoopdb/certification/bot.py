"""What the bot (kubernetes-sigs/verify-conformance) posts on a pull request: its comment,
built from the scenarios of its feature file that failed, the commit status it sets,
and which labels it adds and removes (it keeps the ones it does not manage).

The wording is the bot's, since a vendor reads it on the pull request: the scenarios'
descriptions, its hints (HTML-escaped, as its `common.SafeError` posts them), and the
comments it posts when it does not run its checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

INSTRUCTIONS = "https://github.com/cncf/k8s-conformance/blob/master/instructions.md"
DOCS = (f"[_content of the PR_]({INSTRUCTIONS}#contents-of-the-pr), and"
        f" [_requirements_]({INSTRUCTIONS}#requirements)")

# The scenarios of the bot's feature file, in its order, by the description its comment
# shows for a failed one (the third has none). Each is one requirement of its count.
SCENARIOS = {
    "title": "it seems that there is no title set",
    "files": "there seems to be some required files missing"
             f" ({INSTRUCTIONS}#contents-of-the-pr)",
    "only-files": "",
    "structure": "the submission file directory does not seem to match the Kubernetes"
                 " release version in the files",
    "one-product": "the submission seems to contain files of multiple Kubernetes release"
                   " versions or products. Each Kubernetes release version and products"
                   " should be submitted in a separate PRs",
    "title-release": "the title of the submission does not seem to contain a Kubernetes"
                     " release version that matches the release version in the submitted"
                     " files",
    "product-fields": "it appears that the PRODUCT.yaml file does not contain all the"
                      f" required fields ({INSTRUCTIONS}#productyaml)",
    "product-format": "it appears that field(s) in the PRODUCT.yaml aren't correctly formatted",
    "product-pages": "it appears that URL(s) in the PRODUCT.yaml don't resolve to the correct"
                     " data type",
    "product-type": 'it appears that the type field does not match either "distribution",'
                    ' "hosted platform" or "installer"',
    "title-format": "the submission title is missing either a Kubernetes release version"
                    " (v1.xx) or product name",
    "release": "the Kubernetes release version in this pull request does not qualify for"
               " conformance submission anymore (https://github.com/cncf/k8s-conformance/"
               "blob/master/terms-conditions/Certified_Kubernetes_Terms.md"
               "#qualifying-offerings-and-self-testing)",
    "required-tests": "it appears that some tests are missing from the product submission",
    "tests-pass": "it appears that some tests failed in the product submission",
    "one-commit": "it appears that there is not exactly one commit. Please rebase and squash"
                  " with `git rebase -i HEAD` (https://git-scm.com/docs/git-rebase)",
}

NOT_A_SUBMISSION = (
    "This pull request appears to not be a conformance results submission, because its title"
    ' doesn\'t include "conformance results for"; Checks will not run.\n\nIf this change is'
    " intended to be verified as a conformance results submission see: " + DOCS)
NO_RELEASE = "Unable to parse release version."

# The commit status ("verify-conformance") for each state the bot sets.
STATUSES = {"success": "All checks are passing",
            "failure": "Please check failing requirements and update accordingly",
            "pending": "Internal error"}

SUBMISSION_LABEL = "conformance-product-submission"
NOT_SUBMISSION_LABEL = "not-conformance-product-submission"
UNABLE_LABEL = "unable-to-process"
_MANAGED = frozenset({SUBMISSION_LABEL, NOT_SUBMISSION_LABEL, "not-verifiable",
                      "release-documents-checked", "required-tests-missing",
                      "evidence-missing", UNABLE_LABEL})
# a label holding one of these is the bot's too, whatever follows (its own test: contains)
_MANAGED_PARTS = ("release-", "no-failed-tests-", "tests-verified-", "missing-file-")


def escaped(text: str) -> str:
    """`text` as Go's html.EscapeString gives it, as the bot posts most hints."""
    for char, entity in (("&", "&amp;"), ("'", "&#39;"), ("<", "&lt;"), (">", "&gt;"),
                         ('"', "&#34;")):
        text = text.replace(char, entity)
    return text


def too_old(release: str, oldest: str) -> str:
    return (f"Unable to use version {release} because it is older than the last currently"
            f" supported release {oldest}.")


def not_yet(release: str) -> str:
    return (f"The release version {release} is unable to be processed at this time; Please"
            " wait as this version may become available soon.")


def comment(failed: Mapping[str, Sequence[str]]) -> str:
    """The bot's comment on the result of its checks: `failed` maps a scenario (of
    SCENARIOS) to its hints, each once, in the order the bot met them."""
    total = len(SCENARIOS)
    if not failed:
        return f"All requirements ({total}) have passed for the submission!\n"
    lines = [f"{total - len(failed)} of {total} requirements have passed. Please review the"
             " following:"]
    for scenario in SCENARIOS:
        if scenario in failed:
            lines.append(f"- [FAIL] {SCENARIOS[scenario]}")
            lines += [f"  - {hint}" for hint in dict.fromkeys(failed[scenario])]
    return ("\n".join(lines) + "\n\n for a full list of requirements, please refer to these"
            f" sections of the docs: {DOCS}.\n")


def is_managed(label: str) -> bool:
    """Whether the bot adds and removes `label` (it keeps any other, e.g. lgtm)."""
    return label in _MANAGED or any(part in label for part in _MANAGED_PARTS)


def label_changes(current: Iterable[str], labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """The labels the bot adds to a pull request labelled `current` to give it `labels`,
    and those it removes: the ones it manages that `labels` does not hold."""
    now = list(dict.fromkeys(current))
    add = [label for label in labels if is_managed(label) and label not in now]
    remove = [label for label in now if is_managed(label) and label not in labels]
    return add, remove

"""Go's url.ParseRequestURI and mail.ParseAddress, as the bot (built with Go 1.26) calls
them on PRODUCT.yaml: snoopdb.certification.goparse says what Go would say. The table's
answers are Go 1.26's own, each checked with a program calling those two functions; the
properties say what holds of any text, the values generated around the characters the
rules turn on."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snoopdb.certification.goparse import email_problem, go_quote, ip_problem, url_error

GO_1_26 = [
    ("url", "https://coolkube.example.com/docs", None),
    ("url", "ftp://example", None),
    ("url", "/docs", None),
    ("url", "mailto:someone", None),
    ("url", "https://x.example/a b", None),
    ("url", "https://[::1]:8443/", None),
    ("url", "coolkube.example.com", 'parse "coolkube.example.com": invalid URI for request'),
    ("url", "", 'parse "": empty url'),
    ("url", ":x", 'parse ":x": missing protocol scheme'),
    ("url", "https://exa mple.com/",
     'parse "https://exa mple.com/": invalid character " " in host name'),
    ("url", "https://example.com#top",
     'parse "https://example.com#top": invalid character "#" in host name'),
    ("url", "https://example.com:8o/",
     'parse "https://example.com:8o/": invalid port ":8o" after host'),
    ("url", "https://example.com/%zz", 'parse "https://example.com/%zz": invalid URL escape "%zz"'),
    ("url", "https://example.com/\x7f",
     'parse "https://example.com/\\x7f": net/url: invalid control character in URL'),
    # Go 1.26: http(s) hosts take one colon, brackets hold an IPv6 address alone
    ("url", "https://host:443:443/",
     'parse "https://host:443:443/": invalid port ":443:443" after host'),
    ("url", "http://[127.0.0.1]/", 'parse "http://[127.0.0.1]/": invalid IP-literal'),
    ("url", "ftp://h:1:2/", None),
    ("url", "http://a[b]/", 'parse "http://a[b]/": invalid IP-literal'),
    ("url", "http://[fe80::zz]/",
     'parse "http://[fe80::zz]/": invalid host: ParseAddr("fe80::zz"): each colon-separated'
     ' field must have at least one digit (at "zz")'),
    ("url", "http://[fe80::1%25en0]/", None),
    ("url", "http://[::ffff:192.0.2.1]/", None),
    ("url", "http://[::1%25]/",
     'parse "http://[::1%25]/": invalid host: ParseAddr("::1%"): zone must be a non-empty'
     " string"),
    ("url", "http://[1::2::3]/",
     'parse "http://[1::2::3]/": invalid host: ParseAddr("1::2::3"): multiple :: in address'
     ' (at ":3")'),
    ("url", "http://h%41/", 'parse "http://h%41/": invalid URL escape "%41"'),
    ("url", "https://é.example/%c3%a9", None),
    ("url", "http://[fe80::1%25%41]/", None),
    ("url", "http://[fe80::1%25%c3%a9]/",
     'parse "http://[fe80::1%25%c3%a9]/": invalid URL escape "%c3"'),
    ("url", "https://user@ex@ample.com/", None),
    ("url", "https://us er@example.com/",
     'parse "https://us er@example.com/": net/url: invalid userinfo'),
    # Go cuts an escape after 3 bytes: "é" is two
    ("url", "//+@f(%é>", 'parse "//+@f(%é>": invalid URL escape "%é"'),
    ("mail", "support@coolkube.example.com", None),
    ("mail", "Cool Support <support@coolkube.example.com>", None),
    ("mail", '"Cool, Support" <support@localhost>', None),
    ("mail", "support@localhost (Cool Support)", None),
    ("mail", "team: support@coolkube.example.com;", None),
    ("mail", "sales@[192.0.2.1]", None),
    ("mail", "support at coolkube", "mail: no angle-addr"),
    ("mail", "support", "mail: missing '@' or angle-addr"),
    ("mail", "Cool Support", "mail: no angle-addr"),
    # the addr-spec's own error is dropped: Go then reads a name and wants <address>
    ("mail", "support@coolkube..example", "mail: missing '@' or angle-addr"),
    ("mail", "a@b, c@d", 'mail: expected single address, got ", c@d"'),
    ("mail", "<support@coolkube.example.com", "mail: unclosed angle-addr"),
    ("mail", "<support@[not-an-ip]>",
     'mail: invalid IP address in domain-literal: "not-an-ip"'),
    ("mail", "<support@coolkube..example>", "mail: double dot in atom"),
    ("mail", "a@[::1%eth0]", "mail: missing '@' or angle-addr"),
    ("mail", "a@[1.2.3]", "mail: missing '@' or angle-addr"),
    ("mail", '<"">@x', "mail: empty quoted string in addr-spec"),
    ("mail", '<"\x01">@x', "mail: empty quoted string in addr-spec"),
    ("mail", "<a@[ x]>", "mail: bad character in domain-literal: ' '"),
    ("mail", "<a@[01.2.3.4]>", 'mail: invalid IP address in domain-literal: "01.2.3.4"'),
]


@pytest.mark.parametrize("kind, value, error", GO_1_26)
def test_what_go_1_26_says(kind: str, value: str, error: str | None) -> None:
    assert (url_error(value) if kind == "url" else email_problem(value)) == error


PIECES = ["http://", "https://", "ftp://", "//", "/", "[", "]", "::", ":80", ":", "%25",
          "%zz", "%41", "%c3%a9", "%", "1.2.3.4", "fe80::1", "::ffff:1.2.3.4", "@", "a",
          "é", " ", "?", "#", "user:pw@", "mailto:", "<", ">", '"', "(", ")", ",", ";", "\\",
          "x.y", "\x00", "\x7f", "\U0001f600"]
TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=10).map(
    "".join)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_any_text_gets_an_answer_in_go_s_form(value: str) -> None:
    # never an exception; a refusal is Go's url.Error, naming the value as %q does
    error = url_error(value)
    assert error is None or error.startswith(f"parse {go_quote(value)}: ")
    problem = email_problem(value)
    assert problem is None or problem.startswith("mail: ")
    # a control character is refused before anything else is read
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        assert error is not None and error.endswith("net/url: invalid control character in URL")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["http", "https"]), st.text(string.ascii_lowercase, min_size=1, max_size=8),
       st.lists(st.integers(0, 99999), min_size=2, max_size=4))
def test_an_http_host_takes_one_port(scheme: str, host: str, ports: list[int]) -> None:
    colons = "".join(f":{port}" for port in ports)
    assert url_error(f"{scheme}://{host}{colons}/") == (
        f'parse "{scheme}://{host}{colons}/": invalid port "{colons}" after host')
    # other schemes take the last colon's port, as Go always did
    assert url_error(f"ftp://{host}{colons}/") is None


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses())
def test_brackets_hold_ipv6_alone(address: object) -> None:
    text = str(address)
    if ":" in text:
        assert url_error(f"http://[{text}]/") is None
        assert email_problem(f"a@[{text}]") is None
    else:
        assert url_error(f"http://[{text}]/") == f'parse "http://[{text}]/": invalid IP-literal'
        assert email_problem(f"sales@[{text}]") is None
    assert ip_problem(text.encode()) is None


def test_go_quote_writes_as_strconv_quote() -> None:
    assert go_quote('a"b\\c\n\x01\x7f é\u200b\U0001f600') == (
        '"a\\"b\\\\c\\n\\x01\\x7f é\\u200b\U0001f600"')
    assert go_quote("'", "'") == "'\\''"

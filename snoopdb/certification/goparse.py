"""Go's url.ParseRequestURI and mail.ParseAddress, as the bot calls them on PRODUCT.yaml's
URLs and e-mail address: why Go would refuse a value, or None when it accepts it."""

from __future__ import annotations

import ipaddress

_HOST_PUNCTUATION = set("-_.~!$&'()*+,;=:[]<>\"")
_USERINFO_PUNCTUATION = set("-._:~!$&'()*+,;=%@")


def url_problem(raw: str) -> str | None:
    """Why Go's `url.ParseRequestURI` refuses `raw` (None when it accepts it): an
    absolute URL or an absolute path; the host checked character by character, the
    port all digits, every `%` followed by two hex digits; no fragment is split off."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "invalid control character in URL"
    if raw == "":
        return "empty url"
    if raw == "*":
        return None
    scheme, rest = "", raw
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                return "missing protocol scheme"
            scheme, rest = raw[:i], raw[i + 1:]
        break
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        return None if scheme else "invalid URI for request"
    if scheme and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        problem = _authority_problem(authority)
        if problem:
            return problem
        rest = slash + path
    return _escape_problem(rest)


def _authority_problem(authority: str) -> str | None:
    userinfo, at, host = authority.rpartition("@")
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            return "missing ']' in host"
        port = host[end + 1:]
    else:
        colon = host.rfind(":")
        port = host[colon:] if colon >= 0 else ""
    if port and not (port[0] == ":" and all(c in "0123456789" for c in port[1:])):
        return f"invalid port {port!r} after host"
    problem = _escape_problem(host, in_host=True)
    if problem:
        return problem
    if at:
        if any(c.isascii() and not c.isalnum() and c not in _USERINFO_PUNCTUATION
               for c in userinfo):
            return "net/url: invalid userinfo"
        return _escape_problem(userinfo)
    return None


def _escape_problem(text: str, in_host: bool = False) -> str | None:
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%":
            code = text[i + 1:i + 3]
            if len(code) < 2 or any(d not in "0123456789abcdefABCDEF" for d in code):
                return f"invalid URL escape {text[i:i + 3]!r}"
            if in_host and int(code[0], 16) < 8 and code != "25":
                return f"invalid URL escape {text[i:i + 3]!r}"
            i += 3
            continue
        if in_host and c.isascii() and not c.isalnum() and c not in _HOST_PUNCTUATION:
            return f"invalid character {c!r} in host name"
        i += 1
    return None


class _MailError(Exception):
    pass


def _is_atext(c: str, dot: bool) -> bool:
    if c == ".":
        return dot
    if c in "()<>[]:;@\\,\"":
        return False
    return "!" <= c <= "~" or ord(c) >= 0x80


def _is_vchar(c: str) -> bool:
    return "!" <= c <= "~" or ord(c) >= 0x80


class _AddressParser:
    """RFC 5322 address parsing with Go's net/mail rules: an addr-spec (dot-atom or
    quoted local part, dot-atom or IP-literal domain; a domain needs no dot), optionally
    with a (comment), or a phrase and an <angle-addr>, or a one-address group."""

    def __init__(self, text: str):
        self.s = text

    def parse_single(self) -> None:
        addresses = self.address(groups=True)
        if not self.skip_cfws():
            raise _MailError("misformatted parenthetical comment")
        if self.s:
            raise _MailError(f"expected single address, got {self.s!r}")
        if len(addresses) != 1:
            raise _MailError("empty group" if not addresses else
                             "group with multiple addresses")

    def address(self, groups: bool) -> list[str]:
        self.skip_space()
        if not self.s:
            raise _MailError("no address")
        saved = self.s
        try:
            spec = self.addr_spec()
        except _MailError:
            self.s = saved
        else:
            self.skip_space()
            if self.s.startswith("("):
                self.s = self.s[1:]
                if not self.comment():
                    raise _MailError("misformatted parenthetical comment")
            return [spec]
        name = "" if self.s.startswith("<") else self.phrase()
        self.skip_space()
        if groups and self.consume(":"):
            return self.group()
        if not self.consume("<"):
            if all(_is_atext(c, True) for c in name):
                raise _MailError("missing '@' or angle-addr")
            raise _MailError("no angle-addr")
        spec = self.addr_spec()
        if not self.consume(">"):
            raise _MailError("unclosed angle-addr")
        return [spec]

    def group(self) -> list[str]:
        found: list[str] = []
        self.skip_space()
        if self.consume(";"):
            if not self.skip_cfws():
                raise _MailError("misformatted parenthetical comment")
            return found
        while True:
            self.skip_space()
            found += self.address(groups=False)
            if not self.skip_cfws():
                raise _MailError("misformatted parenthetical comment")
            if self.consume(";"):
                if not self.skip_cfws():
                    raise _MailError("misformatted parenthetical comment")
                return found
            if not self.consume(","):
                raise _MailError("expected comma")

    def addr_spec(self) -> str:
        self.skip_space()
        if not self.s:
            raise _MailError("no addr-spec")
        if self.s.startswith('"'):
            local = self.quoted()
            if not local:
                raise _MailError("empty quoted-string in addr-spec")
        else:
            local = self.atom(dot=True, permissive=False)
        if not self.consume("@"):
            raise _MailError("missing @ in addr-spec")
        self.skip_space()
        if not self.s:
            raise _MailError("no domain in addr-spec")
        domain = self.domain_literal() if self.s.startswith("[") else \
            self.atom(dot=True, permissive=False)
        return f"{local}@{domain}"

    def phrase(self) -> str:
        words: list[str] = []
        while True:
            if words and not self.skip_cfws():
                raise _MailError("misformatted parenthetical comment")
            self.skip_space()
            if not self.s:
                break
            try:
                words.append(self.quoted() if self.s.startswith('"') else
                             self.atom(dot=True, permissive=True))
            except _MailError as exc:
                if not words:
                    raise _MailError(f"missing word in phrase: {exc}") from exc
                break
        if not words:
            raise _MailError("missing word in phrase")
        return " ".join(words)

    def atom(self, dot: bool, permissive: bool) -> str:
        i = 0
        while i < len(self.s) and _is_atext(self.s[i], dot):
            i += 1
        if i == 0:
            raise _MailError("invalid string")
        atom, self.s = self.s[:i], self.s[i:]
        if not permissive:
            if atom.startswith("."):
                raise _MailError("leading dot in atom")
            if ".." in atom:
                raise _MailError("double dot in atom")
            if atom.endswith("."):
                raise _MailError("trailing dot in atom")
        return atom

    def quoted(self) -> str:
        text, escaped, i = [], False, 1
        while True:
            if i >= len(self.s):
                raise _MailError("unclosed quoted-string")
            c = self.s[i]
            if escaped:
                if not (_is_vchar(c) or c in " \t"):
                    raise _MailError(f"bad character in quoted-string: {c!r}")
                text.append(c)
                escaped = False
            elif c == '"':
                break
            elif c == "\\":
                escaped = True
            elif _is_vchar(c) or c in " \t":
                text.append(c)
            else:
                raise _MailError(f"bad character in quoted-string: {c!r}")
            i += 1
        self.s = self.s[i + 1:]
        return "".join(text)

    def domain_literal(self) -> str:
        end = self.s.find("]")
        if end < 0:
            raise _MailError("unclosed domain-literal")
        literal, self.s = self.s[1:end], self.s[end + 1:]
        if any(not ("!" <= c <= "Z" or "^" <= c <= "~" or ord(c) >= 0x80) for c in literal):
            raise _MailError("bad character in domain-literal")
        try:
            ipaddress.ip_address(literal)
        except ValueError:
            raise _MailError(f"invalid IP address in domain-literal: {literal!r}") from None
        return f"[{literal}]"

    def comment(self) -> bool:
        depth = 1
        while self.s and depth:
            if self.s[0] == "\\" and len(self.s) > 1:
                self.s = self.s[1:]
            elif self.s[0] == "(":
                depth += 1
            elif self.s[0] == ")":
                depth -= 1
            self.s = self.s[1:]
        return depth == 0

    def skip_space(self) -> None:
        self.s = self.s.lstrip(" \t")

    def skip_cfws(self) -> bool:
        self.skip_space()
        while self.consume("("):
            if not self.comment():
                return False
            self.skip_space()
        return True

    def consume(self, char: str) -> bool:
        if self.s.startswith(char):
            self.s = self.s[1:]
            return True
        return False


def email_problem(value: str) -> str | None:
    """Why Go's `mail.ParseAddress` refuses `value` (None when it accepts it)."""
    try:
        _AddressParser(value).parse_single()
    except _MailError as exc:
        return str(exc)
    return None

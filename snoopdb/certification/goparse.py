"""Go's url.ParseRequestURI and mail.ParseAddress, as the bot calls them on PRODUCT.yaml's
URLs and e-mail address, with the rules of the Go it is built with (1.26): why Go would
refuse a value, in Go's own words, or None when it accepts it."""

from __future__ import annotations

import unicodedata

_HOST_PUNCTUATION = set("-_.~!$&'()*+,;=:[]<>\"")
_HEX = "0123456789abcdefABCDEF"


def go_quote(text: str, quote: str = '"') -> str:
    """`text` as Go's strconv.Quote writes it (QuoteRune with `quote="'"`)."""
    out = []
    for c in text:
        if c == quote or c == "\\":
            out.append("\\" + c)
        elif c in _GO_ESCAPES:
            out.append(_GO_ESCAPES[c])
        elif c == " " or (c.isprintable() and unicodedata.category(c)[0] not in "CZ"):
            out.append(c)
        elif ord(c) < 0x80 or 0xDC80 <= ord(c) <= 0xDCFF:  # a byte that is not UTF-8
            out.append(f"\\x{ord(c) & 0xFF:02x}")
        elif ord(c) < 0x10000:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    return quote + "".join(out) + quote


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t", "\v": "\\v"}


def url_error(raw: str) -> str | None:
    """Go's whole error for `url.ParseRequestURI(raw)`: `parse "RAW": REASON`."""
    problem = url_problem(raw)
    return None if problem is None else f"parse {go_quote(raw)}: {problem}"


def url_problem(raw: str) -> str | None:
    """Why Go's `url.ParseRequestURI` refuses `raw` (None when it accepts it): an
    absolute URL or an absolute path; the host checked character by character (an
    IP-literal must be an IPv6 address), the port all digits (for http and https, from
    the first colon on), every `%` followed by two hex digits; no fragment is split off."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "net/url: invalid control character in URL"
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
            scheme, rest = raw[:i].lower(), raw[i + 1:]
        break
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        return None if scheme else "invalid URI for request"
    if scheme and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        problem = _authority_problem(scheme, authority)
        if problem:
            return problem
        rest = slash + path
    return _escape_problem(rest)


def _authority_problem(scheme: str, authority: str) -> str | None:
    userinfo, at, host = authority.rpartition("@")
    problem = _host_problem(scheme, host)
    if problem:
        return problem
    if at:
        if any(not (c.isascii() and c.isalnum()) and c not in "-._:~!$&'()*+,;=%@"
               for c in userinfo):
            return "net/url: invalid userinfo"
        return _escape_problem(userinfo)
    return None


def _host_problem(scheme: str, host: str) -> str | None:
    bracket = host.rfind("[")
    if bracket > 0:
        return "invalid IP-literal"
    if bracket == 0:
        end = host.rfind("]")
        if end < 0:
            return "missing ']' in host"
        port = host[end + 1:]
        if not _valid_port(port):
            return f"invalid port {go_quote(port)} after host"
        name = host[1:end]
        zone = name.find("%25")
        parts = [(name, "host")] if zone < 0 else [(name[:zone], "host"), (name[zone:], "zone")]
        unescaped = b""
        for part, mode in parts:
            problem = _escape_problem(part, mode)
            if problem:
                return problem
            unescaped += _unescape(part)
        problem = ip_problem(unescaped)
        if problem:
            return f"invalid host: {problem}"
        if b":" not in unescaped.split(b"%")[0]:
            return "invalid IP-literal"  # an IPv4 address, which brackets may not hold
        return None
    colon = host.find(":")
    if colon >= 0:
        if scheme not in ("http", "https"):
            colon = host.rfind(":")
        if not _valid_port(host[colon:]):
            return f"invalid port {go_quote(host[colon:])} after host"
    return _escape_problem(host, "host")


def _valid_port(port: str) -> bool:
    return not port or (port[0] == ":" and all(c in "0123456789" for c in port[1:]))


def _escape_problem(text: str, mode: str = "") -> str | None:
    """Go's `unescape` checks: every % followed by two hex digits; in a host only non-ASCII
    bytes (and %25) escaped, and only host characters unescaped; in a zone, escapes of
    host characters (or a space) alone."""
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%":
            code = text[i + 1:i + 3]
            if len(code) < 2 or any(d not in _HEX for d in code):
                return f"invalid URL escape {go_quote(_bytes_from(text, i, 3))}"
            value = int(code, 16)
            if mode == "host" and value < 0x80 and code != "25":
                return f"invalid URL escape {go_quote(text[i:i + 3])}"
            if (mode == "zone" and code != "25" and value != 0x20 and value < 0x80
                    and not _host_char(chr(value))):
                return f"invalid URL escape {go_quote(text[i:i + 3])}"
            if mode == "zone" and value >= 0x80:
                return f"invalid URL escape {go_quote(text[i:i + 3])}"
            i += 3
            continue
        if mode and c.isascii() and not _host_char(c):
            return f"invalid character {go_quote(c)} in host name"
        i += 1
    return None


def _bytes_from(text: str, start: int, count: int) -> str:
    """`count` bytes of `text`'s UTF-8 from character `start`, as Go slices a string
    (a byte cut from its character shown as such)."""
    return text[start:].encode()[:count].decode(errors="surrogateescape")


def _host_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c in _HOST_PUNCTUATION)


def _unescape(text: str) -> bytes:
    """`text` (its escapes checked) with each %XX as its byte, as UTF-8."""
    out, i = bytearray(), 0
    while i < len(text):
        if text[i] == "%":
            out.append(int(text[i + 1:i + 3], 16))
            i += 3
        else:
            out += text[i].encode()
            i += 1
    return bytes(out)


def ip_problem(raw: bytes) -> str | None:
    """Why Go's `netip.ParseAddr` refuses `raw`, in its words (None when it accepts it)."""
    text = raw.decode("utf-8", errors="surrogateescape")
    for byte in raw:
        if byte == ord("."):
            return _ipv4_problem(raw, 0, len(raw), text)
        if byte == ord(":"):
            return _ipv6_problem(raw, text)
        if byte == ord("%"):
            return _addr_error(text, "missing IPv6 address")
    return _addr_error(text, "unable to parse IP")


def _addr_error(text: str, message: str, at: bytes | None = None) -> str:
    where = "" if at is None else (
        f" (at {go_quote(at.decode('utf-8', errors='surrogateescape'))})")
    return f"ParseAddr({go_quote(text)}): {message}{where}"


def _ipv4_problem(raw: bytes, start: int, end: int, text: str) -> str | None:
    part = raw[start:end]
    value, digits, dots = 0, 0, 0
    for i, byte in enumerate(part):
        if 0x30 <= byte <= 0x39:
            if digits == 1 and value == 0:
                return _addr_error(text, "IPv4 field has octet with leading zero")
            value = value * 10 + byte - 0x30
            digits += 1
            if value > 255:
                return _addr_error(text, "IPv4 field has value >255")
        elif byte == ord("."):
            if i == 0 or i == len(part) - 1 or part[i - 1] == ord("."):
                return _addr_error(text, "IPv4 field must have at least one digit", part[i:])
            if dots == 3:
                return _addr_error(text, "IPv4 address too long")
            dots += 1
            value, digits = 0, 0
        else:
            return _addr_error(text, "unexpected character", part[i:])
    if dots < 3:
        return _addr_error(text, "IPv4 address too short")
    return None


def _ipv6_problem(raw: bytes, text: str) -> str | None:
    s, zone = raw, b""
    if b"%" in s:
        s, _, zone = s.partition(b"%")
        if not zone:
            return _addr_error(text, "zone must be a non-empty string")
    ellipsis = -1
    if s[:2] == b"::":
        ellipsis, s = 0, s[2:]
        if not s:
            return None
    i = 0
    while i < 16:
        off, acc = 0, 0
        while off < len(s):
            c = chr(s[off])
            if c not in _HEX:
                break
            acc = (acc << 4) + int(c, 16)
            if off > 3:
                return _addr_error(text, "each group must have 4 or less digits", s)
            if acc > 0xFFFF:
                return _addr_error(text, "IPv6 field has value >=2^16", s)
            off += 1
        if off == 0:
            return _addr_error(text, "each colon-separated field must have at least one digit",
                               s)
        if off < len(s) and s[off] == ord("."):
            if ellipsis < 0 and i != 12:
                return _addr_error(text, "embedded IPv4 address must replace the final 2"
                                   " fields of the address", s)
            if i + 4 > 16:
                return _addr_error(text, "too many hex fields to fit an embedded IPv4 at the"
                                   " end of the address", s)
            end = len(raw) - (len(zone) + 1 if zone else 0)
            problem = _ipv4_problem(raw, end - len(s), end, text)
            if problem:
                return problem
            s, i = b"", i + 4
            break
        i += 2
        s = s[off:]
        if not s:
            break
        if s[0] != ord(":"):
            return _addr_error(text, "unexpected character, want colon", s)
        if len(s) == 1:
            return _addr_error(text, "colon must be followed by more characters", s)
        s = s[1:]
        if s[0] == ord(":"):
            if ellipsis >= 0:
                return _addr_error(text, "multiple :: in address", s)
            ellipsis, s = i, s[1:]
            if not s:
                break
    if s:
        return _addr_error(text, "trailing garbage after address", s)
    if i < 16 and ellipsis < 0:
        return _addr_error(text, "address string too short")
    if i >= 16 and ellipsis >= 0:
        return _addr_error(text, "the :: must expand to at least one field of zeros")
    return None


_RUNE = "'"  # %q of a rune: single quotes


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
            raise _MailError(f"expected single address, got {go_quote(self.s)}")
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
            # Go keeps no text of a quoted string it could not read: "empty" either way
            try:
                local = self.quoted()
            except _MailError:
                local = ""
            if not local:
                raise _MailError("empty quoted string in addr-spec")
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
                    raise _MailError(f"missing word in phrase: mail: {exc}") from exc
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
                    raise _MailError(f"bad character in quoted-string: {go_quote(c, _RUNE)}")
                text.append(c)
                escaped = False
            elif c == '"':
                break
            elif c == "\\":
                escaped = True
            elif _is_vchar(c) or c in " \t":
                text.append(c)
            else:
                raise _MailError(f"bad character in quoted-string: {go_quote(c, _RUNE)}")
            i += 1
        self.s = self.s[i + 1:]
        return "".join(text)

    def domain_literal(self) -> str:
        end = 1
        while True:
            if end >= len(self.s):
                raise _MailError("unclosed domain-literal")
            c = self.s[end]
            if c == "]":
                break
            if not _is_vchar(c) or c in "[\\":
                raise _MailError(f"bad character in domain-literal: {go_quote(c, _RUNE)}")
            end += 1
        literal, self.s = self.s[1:end], self.s[end + 1:]
        # net.ParseIP: netip.ParseAddr's rules, without a zone
        if ip_problem(literal.encode()) is not None or "%" in literal:
            raise _MailError(f"invalid IP address in domain-literal: {go_quote(literal)}")
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
    """Go's error for `mail.ParseAddress(value)` (`mail: …`), None when it accepts it."""
    try:
        _AddressParser(value).parse_single()
    except _MailError as exc:
        return f"mail: {exc}"
    return None

"""CRC-32C (Castagnoli), the checksum GCS lists for every object, table-driven.

hashlib and zlib have no CRC-32C. GCS also lists an MD5 for every object except
composite ones, and the fetcher checks that instead when it is there (hashlib's
MD5 runs at hundreds of MB/s; this pure-Python loop at a few MB/s), so this
only runs for composite objects.
"""

from __future__ import annotations

_POLYNOMIAL = 0x82F63B78  # reflected Castagnoli polynomial


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLYNOMIAL if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


class Crc32c:
    """An incremental CRC-32C: `update` with each chunk, then `value`."""

    def __init__(self) -> None:
        self._crc = 0xFFFFFFFF

    def update(self, data: bytes) -> None:
        crc, table = self._crc, _TABLE
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self._crc = crc

    @property
    def value(self) -> int:
        return self._crc ^ 0xFFFFFFFF


def crc32c(data: bytes) -> int:
    checksum = Crc32c()
    checksum.update(data)
    return checksum.value

"""Reading an answer body with a size cap, decompressing it ourselves as it streams in.

httpx decompresses a whole network chunk at once, so one 64 KB chunk of a gzip bomb can grow
to 64 MB before anyone counts, and a body that says ``Content-Encoding: gzip`` but is not
raises ``httpx.DecodingError``. Here every chunk is inflated with ``max_length`` set to the
room left under the cap, so a hostile answer costs at most about the cap, and any failure is
a typed :class:`ResponseFormatError`.
"""

from __future__ import annotations

import zlib

import httpx

from m2m_tui.api.errors import ResponseFormatError, ResponseTooLarge

#: Most bytes inflated in one step.
STEP = 256 * 1024
#: What we tell servers we can decode (httpx would also offer br and zstd when installed).
ACCEPT_ENCODING = "gzip, deflate"


def _too_large(limit: int, method: str, path: str, status: int) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"answer larger than {limit:,} bytes; stopped reading",
        status=status,
        method=method,
        path=path,
    )


class BodyDecoder:
    """Undo one ``Content-Encoding`` (identity, gzip or deflate), never past ``room`` bytes."""

    def __init__(self, encoding: str, *, method: str, path: str, status: int) -> None:
        self.encoding = encoding.strip().lower()
        self._method, self._path, self._status = method, path, status
        self._zlib: zlib._Decompress | None = None
        self._raw_deflate_fallback = False
        if self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._zlib = zlib.decompressobj()
            self._raw_deflate_fallback = True
        elif self.encoding not in ("", "identity"):
            raise ResponseFormatError(
                f"answer in an encoding this tool does not read ({self.encoding[:40]})",
                method=method,
                path=path,
                status=status,
            )

    def _broken(self) -> ResponseFormatError:
        return ResponseFormatError(
            f"answer marked Content-Encoding {self.encoding} but not encoded that way",
            method=self._method,
            path=self._path,
            status=self._status,
        )

    def decode(self, data: bytes, room: int) -> list[bytes]:
        """Inflate ``data`` in steps; more than ``room`` bytes only to say the cap is passed."""
        if self._zlib is None:
            return [data]
        pieces: list[bytes] = []
        produced = 0
        while True:
            # Small steps: zlib builds each output in a growing buffer, then copies it.
            piece = self._inflate(data, min(STEP, room - produced + 1))
            pieces.append(piece)
            produced += len(piece)
            assert self._zlib is not None
            data = self._zlib.unconsumed_tail
            if produced > room or not data:
                return pieces

    def _inflate(self, data: bytes, most: int) -> bytes:
        assert self._zlib is not None
        try:
            out = self._zlib.decompress(data, most)
        except zlib.error:
            if not self._raw_deflate_fallback:
                raise self._broken() from None
        else:
            self._raw_deflate_fallback = False
            return out
        # Some servers send raw deflate (no zlib header) as "deflate": try that once.
        self._raw_deflate_fallback = False
        self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            return self._zlib.decompress(data, most)
        except zlib.error:
            raise self._broken() from None

    def finish(self) -> bytes:
        if self._zlib is None:
            return b""
        try:
            # All input was consumed under max_length, so little can be left to flush.
            return self._zlib.flush()
        except zlib.error:
            raise self._broken() from None


async def read_capped(response: httpx.Response, limit: int, *, method: str, path: str) -> bytes:
    """The decoded body of a streamed response, or ResponseTooLarge past ``limit`` bytes."""
    status = response.status_code
    if response.is_stream_consumed:
        # Built in memory by a transport (a test double, a mock): already read and decoded.
        if len(response.content) > limit:
            raise _too_large(limit, method, path, status)
        return response.content
    encoding = response.headers.get("content-encoding", "")
    decoder = BodyDecoder(encoding, method=method, path=path, status=status)
    declared = response.headers.get("content-length", "")
    if decoder.encoding in ("", "identity") and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, method, path, status)
    chunks: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        for piece in decoder.decode(raw, limit - size):
            size += len(piece)
            if size > limit:
                raise _too_large(limit, method, path, status)
            chunks.append(piece)
    tail = decoder.finish()
    size += len(tail)
    if size > limit:
        raise _too_large(limit, method, path, status)
    chunks.append(tail)
    return b"".join(chunks)

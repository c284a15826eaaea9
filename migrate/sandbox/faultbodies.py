"""The bodies of the ``nested`` and ``huge`` faults: valid JSON that a careless client chokes on."""

from __future__ import annotations

import functools
from typing import Final

from aiohttp import web

#: Size of each piece of a huge body; the sandbox never holds more than one.
CHUNK_BYTES: Final = 64 * 1024
_HUGE_HEAD: Final = b'{"padding":"'
_HUGE_TAIL: Final = b'"}'


@functools.lru_cache(maxsize=4)
def nested_json(depth: int) -> bytes:
    """``[[[…]]]``, ``depth`` levels deep: valid JSON, but ``json.loads`` hits RecursionError."""
    return b"[" * depth + b"]" * depth


def huge_json_size(minimum: int) -> int:
    """The length of the huge body for ``minimum``: one byte more, or the smallest possible."""
    return max(minimum + 1, len(_HUGE_HEAD) + len(_HUGE_TAIL))


async def stream_huge_json(request: web.Request, minimum: int) -> web.StreamResponse:
    """Answer 200 with ``{"padding": "xxx…"}`` longer than ``minimum`` bytes, chunk by chunk.

    No Content-Length (chunked transfer): the client learns the size only by reading. Stops
    quietly when the client goes away.
    """
    response = web.StreamResponse(status=200)
    response.content_type = "application/json"
    await response.prepare(request)
    padding = huge_json_size(minimum) - len(_HUGE_HEAD) - len(_HUGE_TAIL)
    chunk = b"x" * min(CHUNK_BYTES, padding)
    try:
        await response.write(_HUGE_HEAD)
        while padding > 0:
            piece = chunk if padding >= len(chunk) else chunk[:padding]
            await response.write(piece)
            padding -= len(piece)
        await response.write(_HUGE_TAIL)
        await response.write_eof()
    except ConnectionError:
        pass  # the client gave up reading: that is what this fault is for
    return response

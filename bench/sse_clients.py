"""``python bench/sse_clients.py PORT TOKEN COUNT``: COUNT live clients of the dashboard's
event stream, reading every event until killed (bench/web.py runs it in its own process)."""

from __future__ import annotations

import asyncio
import sys

import httpx


async def listen(http: httpx.AsyncClient) -> None:
    """Read the stream to its end."""
    async with http.stream("GET", "/api/v1/events/stream") as answer:
        async for _ in answer.aiter_lines():
            pass


async def main(port: int, token: str, count: int) -> None:
    """Open ``count`` streams at once."""
    limits = httpx.Limits(max_connections=count + 5)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        timeout=None,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
    ) as http:
        await asyncio.gather(*(listen(http) for _ in range(count)))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))

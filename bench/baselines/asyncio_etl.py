#!/usr/bin/env python3
"""A reference ETL in asyncio: everything in flight (64 at a time), exponential backoff, 30 s
timeouts, no hedging. The stronger of the two baselines for bench/compare.sh.

    asyncio_etl.py --source http://127.0.0.1:3123
"""
import argparse
import asyncio
import random
import sys

import httpx

from transform import transform

CONCURRENCY = 64
MAX_ATTEMPTS = 10
BASE_DELAY_S = 0.1
MAX_DELAY_S = 5.0
TIMEOUT_S = 30.0  # above the source's longest pause: a POST is never abandoned while it may land


async def with_backoff(what, limit, call):
    """Awaits `call` until it answers below 400, with exponential backoff and full jitter."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with limit:
                response = await call()
            if response.status_code < 400:
                return response
            error = f"HTTP {response.status_code}"
        except httpx.HTTPError as e:
            error = repr(e)
        if attempt == MAX_ATTEMPTS:
            raise RuntimeError(f"{what}: gave up after {attempt} attempts: {error}")
        await asyncio.sleep(random.uniform(0, min(MAX_DELAY_S, BASE_DELAY_S * 2 ** attempt)))




async def run(base):
    limit = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S, limits=limits) as client:
        async def page(n):
            r = await with_backoff(f"page {n}", limit,
                                   lambda: client.get("/animals/v1/animals", params={"page": n}))
            return r.json()

        first = await page(1)
        rest = await asyncio.gather(*(page(n) for n in range(2, first["total_pages"] + 1)))
        ids = [item["id"] for p in [first, *rest] for item in p["items"]]

        async def detail(animal_id):
            r = await with_backoff(f"animal {animal_id}", limit,
                                   lambda: client.get(f"/animals/v1/animals/{animal_id}"))
            return transform(r.json())

        animals = await asyncio.gather(*(detail(i) for i in ids))

        async def post(batch_no, batch):
            await with_backoff(f"batch {batch_no}", limit,
                               lambda: client.post("/animals/v1/home", json=batch))

        await asyncio.gather(*(post(i // 100, animals[i:i + 100])
                               for i in range(0, len(animals), 100)))
        print(f"asyncio_etl: {len(animals)} animals posted", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="http://127.0.0.1:3123")
    asyncio.run(run(parser.parse_args().source.rstrip("/")))


if __name__ == "__main__":
    main()

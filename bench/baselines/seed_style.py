#!/usr/bin/env python3
"""A reference ETL written the way the seed's public solutions are: listing pages in order,
a thread pool of 16 for the details, a retry wrapper with a fixed 1 s delay, POSTs of 100.

It is a baseline for bench/compare.sh, not part of the service: the same job (docs/animals-api.md)
done with blocking requests, so the service's figures have something honest to stand beside.

    seed_style.py --source http://127.0.0.1:3123
"""
import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from transform import transform

RETRY_DELAY_S = 1.0
MAX_ATTEMPTS = 20


def with_retry(what, call):
    """Calls `call` until it returns a 2xx response, sleeping a fixed second between tries."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            response = call()
            if response.status_code < 400:
                return response
            error = f"HTTP {response.status_code}"
        except requests.RequestException as e:
            error = str(e)
        if attempt == MAX_ATTEMPTS:
            raise RuntimeError(f"{what}: gave up after {attempt} attempts: {error}")
        time.sleep(RETRY_DELAY_S)




def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="http://127.0.0.1:3123")
    args = parser.parse_args()
    base = args.source.rstrip("/")
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=16)
    session.mount("http://", adapter)

    ids = []
    page, total_pages = 1, 1
    while page <= total_pages:
        body = with_retry(f"page {page}", lambda: session.get(
            f"{base}/animals/v1/animals", params={"page": page})).json()
        total_pages = body["total_pages"]
        ids.extend(item["id"] for item in body["items"])
        page += 1

    def fetch(animal_id):
        return transform(with_retry(f"animal {animal_id}", lambda: session.get(
            f"{base}/animals/v1/animals/{animal_id}")).json())

    with ThreadPoolExecutor(max_workers=16) as pool:
        animals = list(pool.map(fetch, ids))

    for i in range(0, len(animals), 100):
        batch = animals[i:i + 100]
        with_retry(f"batch {i // 100}", lambda: session.post(f"{base}/animals/v1/home", json=batch))
    print(f"seed_style: {len(animals)} animals posted", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Follow a Hallpass event stream into a local SQLite file, and carry on after a restart.

    python examples/stream_consumer.py --url https://hallpass.example.org --db events.sqlite
    python examples/stream_consumer.py --url ... --db events.sqlite --follow

The token comes from HALLPASS_STREAM_TOKEN (or --token): a stream token a district administrator
issued (POST /api/v1/admin/tokens). Without --follow it reads page after page until the end of
the log and stops; with --follow it then keeps the connection open (server-sent events) and
stores each event as it happens, reconnecting from where it was after any interruption.

Each page (or event) is stored together with the cursor after it, in one SQLite transaction, so a
consumer stopped at any moment resumes exactly after the last event it stored: nothing twice,
nothing missed. Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    subject TEXT NOT NULL,
    time TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS position (one INTEGER PRIMARY KEY CHECK (one = 1), cursor TEXT NOT NULL);
"""
PAGE = 1000


class Store:
    """The SQLite file: the events and the cursor after the last of them."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(SCHEMA)

    def cursor(self) -> str | None:
        row = self.db.execute("SELECT cursor FROM position").fetchone()
        return None if row is None else str(row[0])

    def save(self, events: list[dict[str, Any]], cursor: str) -> None:
        """The events and the new cursor together, or neither."""
        with self.db:
            self.db.executemany(
                "INSERT INTO events (id, type, source, subject, time, data) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (e["id"], e["type"], e["source"], e["subject"], e["time"], json.dumps(e["data"]))
                    for e in events
                ],
            )
            self.db.execute(
                "INSERT INTO position VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET cursor = excluded.cursor",
                (cursor,),
            )

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM events").fetchone()[0])


def request(url: str, token: str, *, accept: str, last_event_id: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    while True:
        try:
            return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60)
        except urllib.error.HTTPError as e:
            if e.code not in (429, 503):
                raise SystemExit(f"{e.code}: {e.read().decode(errors='replace')}") from e
            time.sleep(float(e.headers.get("Retry-After") or 5))  # rate limited, or the server is busy


def catch_up(base: str, token: str, store: Store, query: dict[str, str]) -> None:
    """Page after page until the end of the log as it is now."""
    while True:
        params = {**query, "limit": str(PAGE)}
        cursor = store.cursor()
        if cursor:
            params["after"] = cursor
        url = f"{base}/api/v1/stream?{urllib.parse.urlencode(params)}"
        with request(url, token, accept="application/x-ndjson") as answer:
            events = [json.loads(line) for line in answer.read().splitlines() if line.strip()]
            store.save(events, answer.headers["X-Hallpass-Cursor"])
            if answer.headers["X-Hallpass-At-Head"] == "true":
                return


def blocks(answer: Any) -> Iterator[tuple[str | None, str | None]]:
    """(id, data) of each complete server-sent event block; comments are skipped."""
    event_id: str | None = None
    data: list[str] = []
    for raw in answer:
        line = raw.decode().rstrip("\r\n")
        if line == "":
            if event_id is not None or data:
                yield event_id, "\n".join(data) if data else None
            event_id, data = None, []
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))


def follow(base: str, token: str, store: Store, query: dict[str, str], most: int | None) -> None:
    """Server-sent events from the stored cursor on; reconnects from where it was."""
    taken = 0
    while most is None or taken < most:
        url = f"{base}/api/v1/stream?{urllib.parse.urlencode(query)}"
        try:
            with request(url, token, accept="text/event-stream", last_event_id=store.cursor()) as answer:
                for event_id, data in blocks(answer):
                    if event_id is None:
                        continue
                    store.save([json.loads(data)] if data else [], event_id)
                    taken += 1 if data else 0
                    if most is not None and taken >= most:
                        return
        except (OSError, urllib.error.URLError) as e:
            print(f"connection lost ({e}); reconnecting", file=sys.stderr)
            time.sleep(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the Hallpass server, e.g. https://hallpass.example.org")
    parser.add_argument("--db", required=True, help="the SQLite file to keep the events and the cursor in")
    parser.add_argument("--token", default=os.environ.get("HALLPASS_STREAM_TOKEN"), help="a stream token")
    parser.add_argument("--school", help="only this school's events")
    parser.add_argument("--type", help="only these event types, comma-separated")
    parser.add_argument("--follow", action="store_true", help="keep following new events live")
    parser.add_argument("--max-events", type=int, help="with --follow, stop after this many new events")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give a stream token: --token or HALLPASS_STREAM_TOKEN")
    query = {k: v for k, v in (("school", args.school), ("type", args.type)) if v}
    store = Store(args.db)
    base = args.url.rstrip("/")
    before = store.count()
    catch_up(base, args.token, store, query)
    if args.follow:
        follow(base, args.token, store, query, args.max_events)
    print(f"{store.count() - before} new events, {store.count()} in {args.db}; cursor {store.cursor()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

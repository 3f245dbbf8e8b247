"""Exports of a history or a moment: CSV and JSON lines, each file saying its school, its range
and when it was exported (decision 080)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def exported(
    fmt: str,
    header: dict[str, Any],
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
) -> str:
    """The file: for CSV, `# key: value` lines before the table; for JSON lines, a first line
    `{"export": header}` and then one object per row."""
    if fmt == "jsonl":
        lines = [orjson.dumps({"export": header}, default=str).decode()]
        lines += [orjson.dumps(row, default=str).decode() for row in rows]
        return "\n".join(lines) + "\n"
    out = io.StringIO()
    for key, value in header.items():
        out.write(f"# {key}: {value}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, default=str).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # A note typed as a formula must stay text in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text

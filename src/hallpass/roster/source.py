"""A roster's files, from a zip file or a folder: each name with its text."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 200 * 1024 * 1024
"""A single CSV larger than this is refused rather than read into memory."""


class UnreadableRoster(Exception):
    """The path is not a folder or zip file of CSV files that can be read."""


@dataclass(frozen=True)
class RosterFiles:
    """CSV texts by their lower-case file name (`users.csv`); nested folders are flattened."""

    texts: dict[str, str]
    origin: str


def open_roster(path: str | Path) -> RosterFiles:
    source = Path(path)
    if source.is_dir():
        return RosterFiles(
            {
                p.name.lower(): _decode(p.name, p.read_bytes())
                for p in sorted(source.iterdir())
                if _is_csv(p.name)
            },
            str(source),
        )
    if source.is_file():
        return read_zip(source.read_bytes(), origin=str(source))
    raise UnreadableRoster(f"{source} is neither a folder nor a zip file")


def read_zip(data: bytes, *, origin: str) -> RosterFiles:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise UnreadableRoster(f"{origin} is not a zip file") from e
    texts: dict[str, str] = {}
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename).name
            if info.is_dir() or not _is_csv(name) or name.startswith("._"):
                continue
            if info.file_size > MAX_FILE_BYTES:
                raise UnreadableRoster(f"{name} is larger than {MAX_FILE_BYTES // 2**20} MiB")
            texts[name.lower()] = _decode(name, archive.read(info))
    return RosterFiles(texts, origin)


def _is_csv(name: str) -> bool:
    return name.lower().endswith(".csv")


def _decode(name: str, data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableRoster(f"{name} is neither UTF-8 nor Windows-1252 text")

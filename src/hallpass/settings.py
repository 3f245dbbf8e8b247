"""Runtime configuration read from environment variables."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]

_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f"})
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
SECRET_KEY_FILE = "secret_key"


@dataclass(frozen=True)
class Settings:
    """Process configuration.

    ``database_url`` / ``redis_url`` of ``None`` mean "start an embedded server"
    (see :mod:`hallpass.local`).
    """

    database_url: str | None
    redis_url: str | None
    data_dir: Path
    secret_key: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    seed_demo: bool = True
    redis_namespace: str = "hallpass"
    https_only: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: ``os.environ``).

        Raises ``ValueError`` naming the offending variable for bad values.
        If ``HALLPASS_SECRET_KEY`` is unset, a key is generated once and kept in
        ``<data_dir>/secret_key`` (mode 0600).
        """
        source: Mapping[str, str] = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = source.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        def url(name: str, schemes: tuple[str, ...], said: str) -> str | None:
            value = get(name)
            if value is not None and not value.startswith(schemes):
                raise ValueError(f"{name} must start with {said}, got {value!r}")
            return value

        def word(name: str, default: str, rule: str) -> str:
            """A value without white space: a host name, a key prefix."""
            value = get(name) or default
            if any(ch.isspace() for ch in value):
                raise ValueError(f"{name} {rule}, got {value!r}")
            return value

        database_url = url("DATABASE_URL", _POSTGRES_SCHEMES, "postgresql:// or postgres://")
        redis_url = url("REDIS_URL", _REDIS_SCHEMES, "redis://, rediss:// or unix://")
        data_dir = _data_dir(get("HALLPASS_DATA_DIR") or "./.data")
        return cls(
            database_url=database_url,
            redis_url=redis_url,
            data_dir=data_dir,
            host=word("HALLPASS_HOST", "127.0.0.1", "must be a host name or address"),
            port=_parse_port(get("HALLPASS_PORT")),
            seed_demo=_parse_bool("HALLPASS_SEED_DEMO", get("HALLPASS_SEED_DEMO"), default=True),
            https_only=_parse_bool("HALLPASS_HTTPS", get("HALLPASS_HTTPS"), default=False),
            redis_namespace=word("HALLPASS_REDIS_NAMESPACE", "hallpass", "must not contain whitespace"),
            secret_key=get("HALLPASS_SECRET_KEY") or _load_or_create_secret_key(data_dir),
        )

    def with_services(self, database_url: str, redis_url: str) -> Settings:
        """Copy with concrete service URLs (e.g. those of embedded servers)."""
        return dataclasses.replace(self, database_url=database_url, redis_url=redis_url)


def _data_dir(raw: str) -> Path:
    try:
        data_dir = Path(raw).expanduser().resolve()
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"HALLPASS_DATA_DIR is not a usable path: {raw!r}") from exc
    if data_dir.exists() and not data_dir.is_dir():
        raise ValueError(f"HALLPASS_DATA_DIR is not a directory: {str(data_dir)!r}")
    return data_dir


def _parse_port(raw: str | None) -> int:
    if raw is None:
        return 8000
    try:
        port = int(raw, 10)
    except ValueError:
        raise ValueError(f"HALLPASS_PORT must be an integer, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"HALLPASS_PORT must be between 0 and 65535, got {port}")
    return port


def _parse_bool(name: str, raw: str | None, *, default: bool) -> bool:
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off), got {raw!r}")


def _load_or_create_secret_key(data_dir: Path) -> str:
    path = data_dir / SECRET_KEY_FILE
    existing = _read_secret_key(path)
    if existing is not None:
        return existing

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"HALLPASS_DATA_DIR cannot be created: {str(data_dir)!r} ({exc})") from exc

    key = secrets.token_urlsafe(48)
    tmp = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            winner = _read_secret_key(path)
            if winner is not None:
                return winner
            os.replace(tmp, path)
        except OSError:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return key


def _read_secret_key(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"HALLPASS_SECRET_KEY is unset and {str(path)!r} cannot be read ({exc})") from exc
    if not text:
        raise ValueError(f"HALLPASS_SECRET_KEY is unset and {str(path)!r} is empty")
    return text

"""What every local server and process group shares: `with` closes it, whatever happened inside."""

from __future__ import annotations

from typing import Self


class Closing:
    """A resource that a `with` block closes on the way out; subclasses define `close()`."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

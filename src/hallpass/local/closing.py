"""What every local server and process group shares: `with` closes it, whatever happened inside."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self


class Closing(ABC):
    """A resource that a `with` block closes on the way out."""

    @abstractmethod
    def close(self) -> None:
        """Stop the resource and release what it holds; closing twice does nothing more."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

"""What every store keeps to: ``close()`` releases it, and ``with store:`` closes it at the end."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class ClosingStore(ABC):
    """A store opened on a connection or file; use it as a context manager."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; further calls are invalid."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

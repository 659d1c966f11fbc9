"""Progress bars of long operations (index builds, ``optimize``): tqdm's ``tqdm.auto``, which
draws in notebooks as well as terminals, fed by the engine's counters while it works."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["bar", "logger"]

#: The one logger of oxvec: long operations say what they did here.
logger = logging.getLogger("oxvec")

#: Set to ``0`` (or ``false``/``no``/``off``) to turn every progress bar off.
ENV = "OXVEC_PROGRESS"


def wanted(progress: bool | None) -> bool:
    """Whether to draw: as asked, else unless ``OXVEC_PROGRESS`` says no, when someone is
    watching (a terminal on stderr, or a notebook)."""
    if progress is not None:
        if not isinstance(progress, bool):
            from .exceptions import InvalidInputError

            raise InvalidInputError(f"progress must be True, False or None, got {progress!r:.80}")
        return progress
    if os.environ.get(ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    return sys.stderr.isatty() or "ipykernel" in sys.modules


@contextlib.contextmanager
def bar(
    label: str, progress: bool | None, unit: str = "row"
) -> Iterator[Callable[..., Any] | None]:
    """A callback for the engine's ``progress`` argument drawing a tqdm bar named ``label``
    (``None`` when no bar is wanted); the bar is closed when the block ends, however."""
    if not wanted(progress):
        yield None
        return
    from tqdm.auto import tqdm

    shown: list[Any] = []

    def update(done: int, total: int, finished: bool) -> None:
        if not shown:
            shown.append(tqdm(total=total, desc=label, unit=unit, leave=True))
        b = shown[0]
        if b.total != total:
            b.total = total
        b.update(done - b.n)
        if finished:
            b.refresh()

    try:
        yield update
    finally:
        if shown:
            shown[0].close()


def counted(reader: Any, label: str, total: int | None, progress: bool | None = None) -> Any:
    """``reader`` (a pyarrow ``RecordBatchReader``) counting its rows into a tqdm bar named
    ``label`` as the engine reads them (``total`` rows when known); ``reader`` itself when no
    bar is wanted."""
    if not wanted(progress):
        return reader
    import pyarrow as pa
    from tqdm.auto import tqdm

    def batches() -> Iterator[Any]:
        with tqdm(total=total, desc=label, unit="row", unit_scale=True, leave=True) as b:
            for batch in reader:
                yield batch
                b.update(batch.num_rows)

    return pa.RecordBatchReader.from_batches(reader.schema, batches())

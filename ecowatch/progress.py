"""A progress bar for long commands (``import``, ``process``): rate and time left on a terminal,
nothing at all when stderr is piped, so scripts get the JSON report only."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def shown() -> bool:
    """Whether a progress bar is drawn: only on a terminal (stderr)."""
    return sys.stderr.isatty()


@contextmanager
def progress(total: int, label: str, unit: str = "posts") -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draws on stderr only when stderr is a terminal."""
    if not shown():
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        """Items per second (rich's own speed column counts bytes)."""

        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:,.0f} {unit}/s" if task.speed else "")

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(),
                  TimeRemainingColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)

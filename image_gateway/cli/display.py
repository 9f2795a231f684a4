"""What the client commands print, with `rich`: the progress of running jobs on stderr (a live
table on a terminal, one plain line per change otherwise, nothing with `--quiet`), and results
on stdout (tables, or one JSON document with `--json`). Errors go to stderr as `error: ...`.

stdout carries only results, so `image-gateway generate ... --json > out.json` and pipes get
the document alone whatever the progress display does.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from image_gateway.cli.watch import TERMINAL, Run

# Off a terminal rich would wrap at 80 columns; a path cut in two cannot be copied.
PLAIN_WIDTH = 400


def show(renderable: Table) -> None:
    """A table on stdout: drawn for the terminal's width, or, piped, unwrapped and without
    trailing blanks."""
    console = Console(highlight=False)
    if console.is_terminal:
        console.print(renderable)
        return
    plain = Console(width=PLAIN_WIDTH, highlight=False, no_color=True)
    with plain.capture() as captured:
        plain.print(renderable)
    lines = [line.rstrip() for line in captured.get().splitlines()]
    print("\n".join(lines), flush=True)


def error(message: str) -> None:
    """One line on stderr, plain, whatever is attached to it."""
    print(f"error: {message}", file=sys.stderr, flush=True)


def note(message: str) -> None:
    """A line on stderr that is no error."""
    print(message, file=sys.stderr, flush=True)


class Progress:
    """The progress of runs, as an `Observer` (watch.py) and a context manager."""

    def __init__(self, runs: Sequence[Run], *, quiet: bool = False) -> None:
        self.runs = runs
        self.console = Console(stderr=True, highlight=False)
        self.live: Live | None = None
        self.quiet = quiet
        self.shown: dict[int, str] = {}  # the last plain line's state of each run
        if not quiet and self.console.is_terminal:
            self.live = Live(
                get_renderable=self._table,
                console=self.console,
                refresh_per_second=8,
                transient=False,
            )

    def __enter__(self) -> Progress:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """End the live table (its last picture stays on the screen)."""
        if self.live is not None:
            self.live.stop()

    def changed(self, run: Run, what: str) -> None:
        if self.live is not None or self.quiet:
            return  # the live table reads the runs on its own schedule
        if what == "status" and run.status in TERMINAL:
            return  # said once the images are saved (or the error read)
        state = _state(run)
        if run.progress is not None and run.status == "running":
            state += f" {run.progress:.0%}"
        if self.shown.get(id(run)) == state:
            return  # an event that changed nothing this line shows
        self.shown[id(run)] = state
        names = run.job_id or "-"
        if run.label != run.job_id:
            names += f" {run.label}"
        line = f"{names}: {state} ({run.elapsed:.1f} s)"
        print(line, file=sys.stderr, flush=True)

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False, collapse_padding=True, header_style="bold")
        # The job id is the handle for `jobs cancel/wait`: never cut. On a narrow terminal the
        # model and the status fold instead.
        table.add_column("model", overflow="fold", max_width=28)
        table.add_column("status", overflow="fold", min_width=9)
        table.add_column("progress", no_wrap=True, min_width=15)
        table.add_column("elapsed", justify="right", no_wrap=True, min_width=7)
        table.add_column("partials", justify="right", no_wrap=True, min_width=8)
        job_width = max([3, *(len(run.job_id or "") for run in self.runs)])
        table.add_column("job", no_wrap=True, min_width=job_width)
        for run in self.runs:
            table.add_row(
                run.label,
                Text(_state(run), style=_style(run)),
                _bar(run.progress),
                f"{run.elapsed:.1f} s",
                str(run.partial_images),
                run.job_id or "",
            )
        return table


def _state(run: Run) -> str:
    state = run.status
    if run.provider_status and run.status == "running":
        state += f" ({run.provider_status})"
    if run.queue_position is not None and run.status in ("queued", "running"):
        state += f", queue position {run.queue_position}"
    if run.status == "succeeded" and run.latency is not None:
        state = "saved" if run.paths else state
    return state


def _style(run: Run) -> str:
    if run.error:
        return "red"
    return "green" if run.status == "succeeded" else ""


def _bar(progress: float | None, width: int = 10) -> str:
    if progress is None:
        return ""
    filled = round(progress * width)
    return "█" * filled + "·" * (width - filled) + f" {progress:.0%}"


def results(runs: Sequence[Run], *, as_json: bool) -> None:
    """The outcome of runs on stdout: a table of provider, model, latency, cost and path (one
    line per image, named from the job id; a failed run shows its error; no table when nothing
    was saved), or with `as_json` one document: `{"jobs": [Run.as_json(), ...], "paths": [every
    saved path]}`."""
    if as_json:
        paths = [str(p) for run in runs for p in run.paths]
        document = {"jobs": [run.as_json() for run in runs], "paths": paths}
        print(json.dumps(document, indent=2))
        return
    if not any(run.paths for run in runs):
        return  # nothing saved: the errors on stderr say it all
    table = Table(box=None, pad_edge=False, collapse_padding=True, header_style="bold")
    table.add_column("provider", no_wrap=True)
    table.add_column("model", no_wrap=True)
    table.add_column("latency", justify="right", no_wrap=True)
    table.add_column("cost", justify="right", no_wrap=True)
    table.add_column("path", overflow="fold")  # a path is never cut short
    for run in runs:
        latency = "" if run.latency is None else f"{run.latency:.1f} s"
        cells = [run.provider or "", run.model or run.label, latency, cost_text(run.cost)]
        if run.error:
            table.add_row(*cells, Text(f"{run.status}: {run.error}", style="red"))
            continue
        for index, path in enumerate(run.paths or [None]):
            shown = cells if index == 0 else ["", "", "", ""]
            table.add_row(*shown, str(path) if path else "(no image)")
    show(table)


def cost_text(cost: dict[str, Any] | None) -> str:
    """`cost` of an answer (README "Using it"): dollars, or `unpriced`."""
    if not cost:
        return ""
    usd = cost.get("usd")
    if not isinstance(usd, int | float):
        return "unpriced"
    text = f"${usd:.4f}".rstrip("0").rstrip(".") if usd else "$0"
    return text + (" (est.)" if cost.get("basis") == "estimate" else "")


def table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], *, keep: Sequence[str] = ()
) -> None:
    """A plain table on stdout (no borders, so it reads the same piped). The columns named in
    `keep` (ids to copy) are never cut or wrapped: on a narrow terminal the others give way."""
    rows = [list(row) for row in rows]
    out = Table(box=None, pad_edge=False, collapse_padding=True, header_style="bold")
    for index, name in enumerate(columns):
        if name in keep:
            widest = max([len(name), *(len(str(row[index])) for row in rows)])
            out.add_column(name, no_wrap=True, min_width=widest)
        else:
            out.add_column(name, overflow="fold")
    for row in rows:
        out.add_row(*row)
    show(out)


def dump(payload: Any) -> None:
    """`payload` as JSON on stdout."""
    print(json.dumps(payload, indent=2))

"""`image-gateway jobs [list]`, `jobs show ID`, `jobs cancel ID`, `jobs wait ID`: the key's
jobs on the gateway (`/v1/jobs`, README "Asynchronous jobs"). `wait` follows a job to its end
and saves its images as `generate` does; `show --json` prints the job as the API answers it
(images as `b64_json` included).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from image_gateway.cli import display
from image_gateway.cli.client import Gateway, Target, job_error
from image_gateway.cli.generate import report
from image_gateway.cli.watch import Run, prepare_output, wait

STATUSES = ("queued", "running", "succeeded", "failed", "canceled")


def add_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    # `jobs` alone lists them, and takes the list's options (`jobs --limit 5` as `jobs list
    # --limit 5`); the list's own defaults are suppressed so they never undo the ones given
    # before it.
    filters = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    filters.add_argument("--status", choices=STATUSES, help="only jobs in this status")
    filters.add_argument("--user-id", help="only jobs sent with this user_id")
    filters.add_argument("--limit", type=int, help="at most this many, newest first (1-100; 20)")
    jobs = groups.add_parser(
        "jobs", parents=[common, filters], help="list, show, cancel or wait for jobs"
    )
    jobs.set_defaults(run=lambda args: asyncio.run(_list(args)))
    actions = jobs.add_subparsers(dest="action", metavar="{list,show,cancel,wait}")
    listing = actions.add_parser(
        "list", parents=[common, filters], help="recent jobs, newest first (the default)"
    )
    listing.set_defaults(run=lambda args: asyncio.run(_list(args)))
    show = actions.add_parser("show", parents=[common], help="one job")
    show.add_argument("id", help="the job id (job_...), as `jobs` lists it")
    show.set_defaults(run=lambda args: asyncio.run(_show(args)))
    cancel = actions.add_parser("cancel", parents=[common], help="cancel a job")
    cancel.add_argument("id", help="the job id (job_...), as `jobs` lists it")
    cancel.set_defaults(run=lambda args: asyncio.run(_cancel(args)))
    waiting = actions.add_parser(
        "wait", parents=[common], help="follow a job to its end and save its images"
    )
    waiting.add_argument("id", help="the job id (job_...), as `jobs` lists it")
    waiting.add_argument(
        "-o", "--output-dir", type=Path, default=Path("."), help="where images go (default: .)"
    )
    waiting.set_defaults(run=lambda args: asyncio.run(_wait(args)))


def _gateway(args: argparse.Namespace) -> Gateway:
    return Gateway(Target.from_options(args.url, args.api_key))


async def _list(args: argparse.Namespace) -> int:
    params = {
        "limit": getattr(args, "limit", None) or 20,
        "status": getattr(args, "status", None),
        "user_id": getattr(args, "user_id", None),
    }
    async with _gateway(args) as gw:
        page = await gw.get("/v1/jobs", {k: v for k, v in params.items() if v is not None})
    if args.json:
        display.dump(page)
        return 0
    rows = [
        [
            job["id"],
            job["status"],
            job.get("kind") or "",
            _when(job.get("created_at")),
            _took(job),
            job.get("user_id") or "",
            job_error(job)[1] or "" if job.get("error") else "",
        ]
        for job in page.get("data", [])
    ]
    if not rows:
        print("no jobs", flush=True)
        return 0
    display.table(
        ("id", "status", "kind", "created", "took", "user_id", "error"), rows, keep=("id",)
    )
    return 0


async def _show(args: argparse.Namespace) -> int:
    async with _gateway(args) as gw:
        job = await gw.get(f"/v1/jobs/{args.id}")
    if args.json:
        display.dump(job)
        return 0
    result = job.get("result") if isinstance(job.get("result"), dict) else {}
    lines = [
        ("id", job["id"]),
        ("status", job["status"]),
        ("kind", job.get("kind")),
        ("created", _when(job.get("created_at"))),
        ("took", _took(job)),
        ("attempts", job.get("attempts")),
        ("user_id", job.get("user_id")),
        ("provider", result.get("provider")),
        ("model", result.get("model")),
        ("cost", display.cost_text(result.get("cost"))),
        ("images", len(result.get("data") or []) if result else None),
        ("error", job_error(job)[0] if job.get("error") else None),
    ]
    for name, value in lines:
        if value not in (None, ""):
            print(f"{name + ':':10}{value}")
    return 0


async def _cancel(args: argparse.Namespace) -> int:
    async with _gateway(args) as gw:
        job = await gw.post(f"/v1/jobs/{args.id}/cancel")
    if args.json:
        display.dump(job)
    elif job["status"] == "canceled":
        print(f"{job['id']}: canceled")
    elif job.get("cancel_requested") and job["status"] not in ("succeeded", "failed"):
        print(f"{job['id']}: cancel requested (its worker stops it shortly)")
    else:
        print(f"{job['id']}: already {job['status']}, left as it is")
    return 0


async def _wait(args: argparse.Namespace) -> int:
    prepare_output(args.output_dir)
    run = Run(label=args.id, job_id=args.id, status="", timed_here=False)
    async with _gateway(args) as gw:
        with display.Progress([run], quiet=args.quiet) as progress:
            await wait(gw, run, args.output_dir, progress)
    return report([run], as_json=args.json)


def _when(stamp: Any) -> str:
    """Unix seconds as local time, to the second."""
    if not isinstance(stamp, int):
        return ""
    return datetime.fromtimestamp(stamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _took(job: dict[str, Any]) -> str:
    created, finished = job.get("created_at"), job.get("finished_at")
    if isinstance(created, int) and isinstance(finished, int):
        return f"{finished - created} s"
    return ""

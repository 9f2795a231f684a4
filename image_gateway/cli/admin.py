"""The admin commands: keys and the database, straight on the store a gateway uses.

    image-gateway keys create --name N [--providers a,b] [--models p/m,...] [--rpm N]
                              [--concurrency N] [--budget USD] [--scopes generate,edit,usage]
    image-gateway keys list [--json]
    image-gateway keys revoke ID
    image-gateway db upgrade
    image-gateway worker [--concurrency N]

They read the same settings as the server (environment, `.env`) and use the same database,
migrating it first. `keys create` prints the new key once; nothing prints it again. A key
revoked here stops working on running gateways within KEY_CACHE_SECONDS.

`worker` runs job workers without HTTP until SIGTERM/SIGINT, then stops taking jobs and
releases the leases of the ones it was running (another worker resumes them from their
journals at once). It needs REDIS_URL: jobs reach a separate process through the Redis queue.
Without Redis, jobs run inside the gateway processes (RUN_WORKERS=true, the default).
Exit status: 0 done, 1 not found or database unreachable, 2 bad arguments or configuration.

The server's modules are imported when a command runs, so the client commands (which need none
of them) start without them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from image_gateway.access.key_store import KeyStore
    from image_gateway.providers.kit.base import Provider
    from image_gateway.settings import Settings


@dataclass(frozen=True)
class Context:
    keys: KeyStore
    providers: Mapping[str, Provider]


Command = Callable[[Context, argparse.Namespace], Awaitable[int]]


def run(args: argparse.Namespace) -> int:
    """Run an admin command parsed by `add_commands`' parsers; its exit status."""
    from image_gateway.settings import ConfigurationError, load_settings

    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.group == "worker":
        from image_gateway.app import create_app
        from image_gateway.jobs.process import run_worker

        return run_worker(settings, create_app, concurrency=args.concurrency)
    return asyncio.run(_run(args.admin_fn, settings, args))


async def _run(command: Command, settings: Settings, args: argparse.Namespace) -> int:
    from image_gateway.app import create_app  # the same wiring (providers, database) as the server
    from image_gateway.db.migrate import upgrade
    from image_gateway.errors import GatewayError

    app = create_app(settings)
    keys: KeyStore = app.state.persistence.keys
    try:
        await upgrade(keys.db)
        return await command(Context(keys, app.state.dispatcher.providers), args)
    except GatewayError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: the database is unreachable ({type(exc).__name__})", file=sys.stderr)
        return 1
    except Exception as exc:
        # Never echo exception text: a driver error can carry the database URL.
        print(f"error: the database operation failed ({type(exc).__name__})", file=sys.stderr)
        return 1
    finally:
        await keys.db.close()


async def _create(ctx: Context, args: argparse.Namespace) -> int:
    from image_gateway.access.keys import check_catalogue, parse_new_key

    raw: dict[str, Any] = {"name": args.name}
    optional = {
        "allowed_providers": _split(args.providers),
        "allowed_models": _split(args.models),
        "scopes": _split(args.scopes),
        "requests_per_minute": args.rpm,
        "max_concurrent": args.concurrency,
        "monthly_budget_usd": args.budget,
    }
    raw.update({k: v for k, v in optional.items() if v is not None})
    new = check_catalogue(parse_new_key(raw), ctx.providers)
    stored, text = await ctx.keys.create(new)
    if args.json:
        print(json.dumps({**stored.public(), "key": text}, indent=2))
    else:
        print(f"created {stored.id} ({stored.name})")
        _describe(stored.public())
        print(f"\nkey: {text}")
        print("This is the only time the key is shown: store it now.")
    return 0


async def _list(ctx: Context, args: argparse.Namespace) -> int:
    found = [k.public() for k in await ctx.keys.list_keys()]
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    if not found:
        print("no keys (create one with: image-gateway keys create --name NAME)")
        return 0
    print(f"{'ID':22} {'NAME':20} {'PREFIX':10} {'STATUS':8} LIMITS")
    for key in found:
        status = "active" if key["active"] else "revoked"
        prefix = key["prefix"] + "…"
        print(f"{key['id']:22} {key['name'][:20]:20} {prefix:10} {status:8} {_limits(key)}")
    return 0


async def _revoke(ctx: Context, args: argparse.Namespace) -> int:
    from image_gateway.access.keys import KEY_ID_RE

    stored = await ctx.keys.revoke(args.id) if KEY_ID_RE.match(args.id) else None
    if stored is None:
        print(f"error: no key with id {args.id[:40]!r}", file=sys.stderr)
        return 1
    print(f"revoked {stored.id} ({stored.name})")
    return 0


async def _db_upgrade(ctx: Context, args: argparse.Namespace) -> int:
    from image_gateway.db.migrate import current_revision

    db = ctx.keys.db
    print(f"database at revision {await current_revision(db)} ({db.display_url})")
    return 0


def _describe(key: dict[str, Any]) -> None:
    print(f"  name:    {key['name']}")
    print(f"  prefix:  {key['prefix']}…")
    print(f"  scopes:  {', '.join(key['scopes'])}")
    print(f"  limits:  {_limits(key)}")


def _limits(key: dict[str, Any]) -> str:
    parts = []
    if key["allowed_providers"] is not None:
        parts.append("providers=" + ",".join(key["allowed_providers"]))
    if key["allowed_models"] is not None:
        parts.append("models=" + ",".join(key["allowed_models"]))
    if key["requests_per_minute"] is not None:
        parts.append(f"rpm={key['requests_per_minute']}")
    if key["max_concurrent"] is not None:
        parts.append(f"concurrency={key['max_concurrent']}")
    if key["monthly_budget_usd"] is not None:
        budget, spent = key["monthly_budget_usd"], key["month_spend_usd"]
        parts.append(f"budget=${budget:.2f} (spent ${spent or 0:.4f})")
    if set(key["scopes"]) != {"generate", "edit", "usage"}:
        parts.append("scopes=" + ",".join(key["scopes"]))
    return " ".join(parts) or "unrestricted"


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def add_commands(groups: Any) -> None:
    """`keys`, `db` and `worker` on the top parser's subparsers."""

    keys = groups.add_parser("keys", help="create, list and revoke gateway keys")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key (printed once)")
    create.add_argument("--name", required=True)
    create.add_argument("--providers", help="allowed providers, comma-separated (default: any)")
    create.add_argument("--models", help="allowed provider/model ids, comma-separated")
    create.add_argument("--rpm", type=int, help="requests per minute")
    create.add_argument("--concurrency", type=int, help="concurrent generations")
    create.add_argument("--budget", type=float, help="monthly budget in USD")
    create.add_argument("--scopes", help="generate,edit,usage (default: all three)")
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(run=run, admin_fn=_create)
    listing = actions.add_parser("list", help="list keys (never their text)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run, admin_fn=_list)
    revoke = actions.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id")
    revoke.set_defaults(run=run, admin_fn=_revoke)

    db = groups.add_parser("db", help="database schema")
    db_actions = db.add_subparsers(dest="action", required=True)
    db_upgrade = db_actions.add_parser("upgrade", help="migrate to the newest schema")
    db_upgrade.set_defaults(run=run, admin_fn=_db_upgrade)

    worker = groups.add_parser("worker", help="run job workers (no HTTP) until SIGTERM/SIGINT")
    worker.add_argument(
        "--concurrency", type=_concurrency, help="jobs run at once (default: WORKER_CONCURRENCY)"
    )
    worker.set_defaults(run=run)


def _concurrency(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 10000")
    return int(value)

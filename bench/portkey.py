"""Portkey's open-source AI gateway (Node) as a peer, installed from the npm registry.

`bench/.portkey` gets `@portkey-ai/gateway` at an exact version (`VERSION`, `npm install
--save-exact --ignore-scripts`: its only install script applies its own development patches,
which its package does not ship) on first use, and reuses it after that. Another version found
there is replaced.

It starts as its package's `bin` does, `node build/start-server.js --port=N`, with `--headless`
(no browser UI and no log-stream route; the proxy is the same). That script hands
`@hono/node-server` a port but no host, so Node would listen on every interface; a preload
(`LOOPBACK`, `node -r`) gives such a `listen()` the host 127.0.0.1, as every server of the
benchmark listens. Nothing else is configured: Portkey reads the provider and its address from
each request's headers, `x-portkey-provider: openai` and `x-portkey-custom-host` (the provider's
base URL, `/v1` included: Portkey appends `/images/generations`; loopback hosts are in its
default `TRUSTED_CUSTOM_HOSTS`), and forwards `Authorization` as the provider's key.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from .load import Target
from .procs import Processes, Server, free_port
from .stack import OPENAI_BODY, OPENAI_KEY, START_TIMEOUT, Context, url

PACKAGE = "@portkey-ai/gateway"
VERSION = "1.15.2"  # the version issue 11 measured; it runs on Node 20
HOME = Path(__file__).resolve().parent / ".portkey"
PACKAGE_DIR = HOME / "node_modules" / "@portkey-ai" / "gateway"
START_SCRIPT = PACKAGE_DIR / "build" / "start-server.js"
LOOPBACK = """\
// Written by bench/portkey.py: a listen() given a port but no host binds 127.0.0.1 only.
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (port, host, ...rest) {
  if (typeof port === "number" && (host === undefined || host === null)) host = "127.0.0.1";
  return listen.call(this, port, host, ...rest);
};
"""


def version() -> str | None:
    """The installed package's version, or None when it is not installed."""
    try:
        found = json.loads((PACKAGE_DIR / "package.json").read_text()).get("version")
    except (OSError, ValueError):
        return None
    return found if isinstance(found, str) else None


def node_version() -> str | None:
    node = shutil.which("node")
    if node is None:
        return None
    try:
        proc = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() or None


def ensure(ctx: Context) -> bool:
    """True when Portkey is ready to run; installs it once when allowed. Never raises."""
    if shutil.which("node") is None:
        ctx.note("Portkey skipped: Node.js (`node`) is not on PATH")
        return False
    if version() == VERSION and START_SCRIPT.exists():
        return True
    if not ctx.portkey_install:
        ctx.note(f"Portkey skipped: {PACKAGE}@{VERSION} not in {HOME} and --no-portkey-install")
        return False
    npm = shutil.which("npm")
    if npm is None:
        ctx.note("Portkey skipped: npm is not on PATH, so it cannot be installed")
        return False
    print(f"  installing {PACKAGE}@{VERSION} into {HOME} (once; kept afterwards)", flush=True)
    HOME.mkdir(parents=True, exist_ok=True)
    # Its own package.json, so that npm never walks up to another project's.
    (HOME / "package.json").write_text('{"private": true}\n')
    argv = [npm, "install", "--prefix", str(HOME), "--save-exact", "--ignore-scripts"]
    argv += ["--no-audit", "--no-fund", "--loglevel=error", f"{PACKAGE}@{VERSION}"]
    try:
        subprocess.run(argv, check=True, timeout=900, capture_output=True)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        tail = detail.decode("utf-8", "replace").strip()[-500:] if detail else str(exc)
        ctx.note(f"Portkey skipped: {PACKAGE}@{VERSION} could not be installed ({tail})")
        return False
    if version() != VERSION or not START_SCRIPT.exists():
        ctx.note(f"Portkey skipped: npm finished but {START_SCRIPT} is not version {VERSION}")
        return False
    return True


def argv(port: int, preload: Path) -> list[str]:
    node = shutil.which("node") or "node"
    return [node, "-r", str(preload), str(START_SCRIPT), f"--port={port}", "--headless"]


def start(procs: Processes, ctx: Context, name: str, wait: bool = True) -> Server:
    """A Portkey process on a free loopback port (the upstream is named per request)."""
    port = free_port()
    home = ctx.out_dir / "tmp" / name
    home.mkdir(parents=True, exist_ok=True)
    preload = home / "loopback.cjs"
    preload.write_text(LOOPBACK)
    server = procs.start(name, argv(port, preload), port, cwd=home)
    if wait:
        server.wait_ready("/", START_TIMEOUT)
    return server


def target(server: Server, upstream: Server, label: str = "portkey") -> Target:
    headers = {
        "Authorization": f"Bearer {OPENAI_KEY}",
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": f"{url(upstream)}/v1",
    }
    return Target(label, f"{url(server)}/v1/images/generations", OPENAI_BODY, headers)

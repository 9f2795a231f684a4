"""The LiteLLM proxy as the comparison point, installed into its own virtualenv.

`bench/.venv-litellm` is created on first use (`pip install 'litellm[proxy]'`) and reused after
that. LiteLLM gets a `model_list` entry pointing at the same OpenAI emulator as the gateway, a
master key (it refuses to start without one), its local model-cost map (no network fetch at
start-up) and otherwise its defaults: one uvicorn worker, as `litellm --config` starts it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .load import Target
from .procs import Processes, Server, free_port
from .stack import OPENAI_BODY, START_TIMEOUT, Context, url

VENV = Path(__file__).resolve().parent / ".venv-litellm"
MARKER = VENV / ".installed"
MASTER_KEY = "sk-bench-litellm-master-2e7f4a9c"
PACKAGE = "litellm[proxy]"
ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONDONTWRITEBYTECODE": "1"}


def executable() -> Path:
    return VENV / "bin" / "litellm"


def ensure(ctx: Context) -> bool:
    """True when LiteLLM is ready to run; installs it once when allowed. Never raises."""
    if MARKER.exists() and executable().exists():
        return True
    if not ctx.litellm_install:
        ctx.note("LiteLLM skipped: not installed and --no-litellm-install given")
        return False
    print(f"  installing {PACKAGE} into {VENV} (once; cached afterwards)", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True, timeout=600, capture_output=True)
        subprocess.run([*pip, PACKAGE], check=True, timeout=1800, capture_output=True)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        tail = detail.decode("utf-8", "replace").strip()[-500:] if detail else str(exc)
        ctx.note(f"LiteLLM skipped: it could not be installed ({tail})")
        return False
    MARKER.write_text(version() or "unknown")
    return executable().exists()


def version() -> str | None:
    try:
        proc = subprocess.run(
            [
                str(VENV / "bin" / "python"),
                "-c",
                "import importlib.metadata as m;print(m.version('litellm'))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() or None


def write_config(path: Path, upstream: Server) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "model_list:\n"
        "  - model_name: gpt-image-1\n"
        "    litellm_params:\n"
        "      model: openai/gpt-image-1\n"
        f"      api_base: {url(upstream)}/v1\n"
        "      api_key: sk-emulator\n"
        "general_settings:\n"
        f"  master_key: {MASTER_KEY}\n"
    )
    return path


def argv(config: Path, port: int) -> list[str]:
    return [str(executable()), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]


def start(procs: Processes, ctx: Context, name: str, upstream: Server, wait: bool = True) -> Server:
    port = free_port()
    config = write_config(ctx.out_dir / "tmp" / f"{name}.yaml", upstream)
    server = procs.start(name, argv(config, port), port, env=ENV, cwd=config.parent)
    if wait:
        server.wait_ready("/health/liveliness", START_TIMEOUT * 3)
    return server


def target(server: Server, label: str = "litellm") -> Target:
    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    return Target(label, f"{url(server)}/v1/images/generations", OPENAI_BODY, headers)

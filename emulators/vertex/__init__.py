"""Emulator of Google Vertex AI ("Gemini Enterprise Agent Platform"), on the emulator kit: a
service account and its OAuth token endpoint (`accounts.py`), Imagen's `:predict`
(`imagen.py`), Google's error envelope (`errors.py`), the routes (`app.py`) and the `Emulator`
with its scenarios and switches (`server.py`).

Run it: `VertexEmulator().start()` (tests), or `python -m emulators vertex --port 9601`; the
ready text gives the gateway's `VERTEX_AI_*` wiring (its key file in a temporary folder).
"""

from .app import VertexApp
from .server import VertexEmulator

__all__ = ["VertexApp", "VertexEmulator"]

"""Emulator of the Gemini API's image models (REFERENCE-MORE §1), on the emulator kit.

- `POST /v1beta/models/{model}:generateContent` with `x-goog-api-key` (or `?key=`): the
  image models of `catalog.py`, each body checked as Google's parser and the model would
  (`request.py`), answered with an inline PNG of the exact size (`generate.py`), thought
  parts first on Gemini 3 models; HTTP-200 refusals by prompt marker (`[block-prompt]`,
  `[image-safety]`, `[image-other]`, `[no-image]`); 429s with `RetryInfo` per minute
  (`--rate-limit`) and a sticky per-day quota (`--daily-quota`, the `daily_quota` fault
  switch); Google's error envelope (`errors.py`).
- `generate.GenerateContent` is the `generateContent` handling without host, path or auth,
  for another app (Vertex's emulator) to serve on its own routes; `vertex=True` accepts
  Vertex's `imageConfig` fields.

Run it: `GeminiEmulator().start()`, or `python -m emulators gemini --port 9301`.
"""

from .app import GeminiApp
from .generate import MARKERS, GenerateContent
from .server import GeminiEmulator

__all__ = ["MARKERS", "GeminiApp", "GeminiEmulator", "GenerateContent"]

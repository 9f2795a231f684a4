"""Emulator of Alibaba Cloud Model Studio's DashScope image synthesis (Wan, Qwen-Image):
REFERENCE-MORE §8; dashscope-sdk-python `dashscope/aigc/image_synthesis.py`; on the kit.

Endpoints (Bearer auth: a missing or wrong key is a 401 `InvalidApiKey`):
- `POST /api/v1/services/aigc/text2image/image-synthesis` and `.../image2image/...` with
  `X-DashScope-Async: enable`: a task, `{"output": {"task_id", "task_status": "PENDING"}}`.
  Without the header only wan2.2-t2i-flash/-plus answer (synchronously, the finished task);
  any other model is a 403 "current user api does not support synchronous calls".
  Validated per model (`params.py`);
- `GET /api/v1/tasks/{task_id}`: PENDING, RUNNING, SUCCEEDED (`results[{url}]` or a failed
  result's `{code, message}`, `task_metrics`, `usage.image_count`), FAILED (`code`,
  `message`), CANCELED, UNKNOWN (`tasks.py`);
- `POST /api/v1/tasks/{task_id}/cancel`: only a PENDING task, else a 400.
Results are PNG files on the second listener, signed, expiring with the task (24 h).
Errors `{"request_id", "code", "message"}` (`errors.py`); the markers and the kit's
scenarios in DashScope's forms are in `app.py` and `server.py`.

Request kinds for faults: `submit` (paid), `poll`, `cancel`, `result`. `stats()` adds
`auth_failures`, `ignored`, `sync_refused`, `cancels`, `results_served`,
`result_requests_with_key` and `tasks`.

Run it: `DashScopeEmulator().start()`, or `python -m emulators dashscope --port 10701`.
"""

from .app import DashScopeApp
from .server import DashScopeEmulator

__all__ = ["DashScopeApp", "DashScopeEmulator"]

"""The emulator kit: everything a provider's emulator needs except its routes, its validation
and its error shapes, written once (emulators/README.md shows a new emulator on it).

Modules: `emulator` (the `Emulator` base: listeners, the uniform handle, the command line),
`cli` (what the command lines accept), `app` (the `EmulatorApp` ASGI base: control surface,
faults, counters), `faults`, `records`, `scenarios`, `auth` (Bearer or a header key), `limits`
(rate, concurrency, credits), `tasks` (polling tasks with set durations), `signed_urls`
(expiring result URLs), `results` (a synchronous emulator's result host and its app and emulator
bases), `jobs` (queued jobs for submit-and-poll emulators), `markers`, `strict`, `asgi` (raw
replies, resets, hangs), `server` (uvicorn on pre-bound sockets), `label`.

The scenario interface (what the contract suite drives; every emulator class, today's and
each new one, derives from `Emulator`):

    with BFLEmulator() as emu:           # start() / stop() / a context manager
        emu.base_url                     # what the gateway's <NAME>_BASE_URL takes (str):
                                         #   OpenAI's ends in /v1, BFL's has no path
        emu.api_key                      # the one key it accepts (str)
        emu.gateway_environment()        # {variable: value}: the gateway's canonical variables
                                         #   that point it here (BFL_FLUX_BASE_URL, _API_KEY,
                                         #   _TRUSTED_HOSTS for a second listener)
        emu.supports("moderated_200")    # bool: the provider has a form of it; ValueError for
                                         #   a name not in SCENARIOS
        emu.scenario("rate_limited", times=1)
            # queue the provider's OWN rendering of a standard failure for its next `times`
            # paid submissions (BFL's moderated_200 shows at the poll of that submission);
            # UnknownScenario (a ValueError) for an unknown or unsupported name
        emu.stats()                      # dict: at least
            # "submissions": int   paid submissions the provider accepted (it would bill them)
            # "requests": {kind: int}   per-endpoint counters (OpenAI: generate, edit,
            #                      variation, file; BFL: submit, poll, sample, credits, other)
            # "in_flight", "max_in_flight", "faults_triggered", "faults_pending": int
            # plus the provider's own counters
        emu.requests()                   # list of {"method": str, "path": str, "fields": dict}
            # each request whose body it parsed (after auth), oldest first, the newest 500:
            # JSON top-level fields as sent; multipart fields (repeated names as a list, file
            # parts as {"filename": str|None, "content_type": str|None, "bytes": int}; a
            # string over 4096 characters, such as a base64 image, as {"chars", "sha256"})
        emu.reset()                      # counters, records, faults, tasks, credits, limits

`SCENARIOS` (the standard names, in `scenarios.py`):

    rate_limited      429 with the provider's retry hint of 1 s (OpenAI: `retry-after: 1` and
                      `retry-after-ms: 1000`; BFL: `retry-after: 1`)
    server_error      500 in the provider's error shape
    hang              no answer until the client gives up (or the emulator stops)
    reset_after_send  the provider accepts and bills the submission (`submissions` counts it),
                      then the connection is reset (TCP RST) before the answer
    malformed_json    200 whose body is not JSON (a truncated answer)
    moderated         the provider's HTTP-error moderation refusal (OpenAI: 400
                      `moderation_blocked`, or `content_policy_violation` on DALL·E); BFL
                      has none (it moderates with an HTTP 200 poll status)
    moderated_200     the HTTP-200 form (BFL: poll status `Request Moderated`); OpenAI has none
    quota             out of credits or quota (OpenAI: 429 `insufficient_quota`; BFL: 402
                      `{"detail": "Insufficient credits"}`)

Each emulator maps names to its own faults in `SCENARIO_FAULTS`; the same are reachable over
HTTP (`POST /_emulator/scenario {"name": ..., "times": n}`, `GET /_emulator/scenario`), for an
emulator run on its own (`python -m emulators <provider>`).

Strict mode: `Emulator(strict=True)` (`--strict`) refuses unknown fields, in the provider's
validation-error shape, where the real API silently ignores them (`Emulator.LENIENT`: BFL's
submissions); see `strict.py`.
"""

from .app import EmulatorApp
from .emulator import Emulator
from .faults import FAKE_IMAGES, Fault, FaultRules
from .scenarios import SCENARIOS, UnknownScenario

__all__ = [
    "FAKE_IMAGES",
    "SCENARIOS",
    "Emulator",
    "EmulatorApp",
    "Fault",
    "FaultRules",
    "UnknownScenario",
]

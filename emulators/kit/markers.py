"""Markers in a prompt that make an emulator answer as the provider would for such a prompt
(a moderation refusal, a failed generation), so a test can ask for one through the gateway
with nothing but a prompt. Each emulator names its own (OpenAI: `[moderate]`; BFL:
`[moderate-request]`, `[moderate-content]`, `[error]`, `[never-ready]`). A fault's `marker`
applies one to a submission whose prompt does not carry it (`Emulator.scenario`).
"""

from __future__ import annotations

from .faults import Fault


def marker_of(prompt: str, markers: tuple[str, ...], fault: Fault | None = None) -> str | None:
    """The marker in force: the fault's, else the first of `markers` found in the prompt."""
    if fault is not None and fault.marker is not None:
        return fault.marker
    return next((m for m in markers if m in prompt), None)

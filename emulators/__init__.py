"""Emulators of the image providers' HTTP APIs, built from `shared/providers/REFERENCE.md`.

Each emulator is a real HTTP server (uvicorn on loopback) that behaves like the provider's
documented API, plus a `/_emulator/*` control surface to inject faults and read counters.
Tests, the benchmark and local demos point the gateway's base URLs at them.
"""

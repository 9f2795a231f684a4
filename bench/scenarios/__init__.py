"""One module per scenario; each exposes `run(ctx) -> dict` (the scenario's results)."""

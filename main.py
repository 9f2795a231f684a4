"""Entry point: `uvicorn main:app` (also what Vercel's vercel.json and the Dockerfile use)."""

import gc

# Everything start-up makes (modules, classes, the app) lives as long as the process, so the
# cyclic collector's scans while it is being made find next to nothing (about a thousand
# objects) and cost ~0.12 s of a cold start on 2 cores (bench/RESULTS.md, issue 16): it is off
# until the app is built.
gc.disable()

from image_gateway.app import create_app  # noqa: E402

app = create_app()

# What exists now is frozen out of the collector's scans (a full collection over it is a p99
# spike under load), and young collections run every 10,000 allocations instead of 700.
# Measured in bench/RESULTS.md.
gc.freeze()
gc.set_threshold(10_000, 10, 10)
gc.enable()

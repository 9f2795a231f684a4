"""Provider adapters, side by side: one module each, listed in `registry.py`."""

"""image-gateway: one HTTP API for image generation across providers."""

__version__ = "0.1.0"

"""Entry point: `uvicorn main:app` (also what Vercel's vercel.json and the Dockerfile use)."""

from image_gateway.app import create_app

app = create_app()

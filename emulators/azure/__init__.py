"""Emulator of Azure OpenAI's image API (REFERENCE-MORE §5), on the emulator kit and the OpenAI
Images emulator's validation and rendering (`app.py` lists the routes, checks and markers;
`errors.py` the answers and their sources).

    with AzureEmulator() as azure:
        # POST f"{azure.base_url}/openai/deployments/gpt-image-1/images/generations"
        #      "?api-version=2025-04-01-preview" with header api-key: azure-emulator-key
        ...

Run it: `python -m emulators azure --port 9501`.
"""

from .app import MARKERS, AzureApp
from .server import AzureEmulator

__all__ = ["MARKERS", "AzureApp", "AzureEmulator"]

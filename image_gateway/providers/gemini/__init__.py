"""`gemini`: Google's Gemini API image models ("Nano Banana") through `generateContent`,
synchronous (`kit/sync.py`): one JSON call per image, the image inline in the answer.

- `config.py`     its settings
- `sizes.py`      the pixel sizes per model family, tier and aspect ratio (§1.9), pure
- `models.py`     its model catalogue (typed `GeminiModel` data)
- `translate.py`  pure translations: a task to the `generateContent` body, an answer back
                  (images, text, usage; HTTP-200 refusals raised as errors)
- `errors.py`     Google's error envelope (`google.rpc.Status`) read and classified
- `adapter.py`    the provider: `kit/sync.py` hooks, Gemini-only checks

`sizes.py`, `translate.py` and `errors.py` name no host, no settings and no auth, so the
`vertex-ai` provider (the same models on Vertex AI) uses them as they are.
"""

from image_gateway.providers.gemini.config import GeminiConfig
from image_gateway.providers.kit.definition import ProviderDefinition

DEFINITION = ProviderDefinition(
    name="gemini",
    label="Google Gemini API (image models)",
    config=GeminiConfig,
    adapter="image_gateway.providers.gemini.adapter:GeminiProvider",
    aliases=("google-gemini",),
    key_variables=("GOOGLE_API_KEY",),
    key_prefixes=("AIza",),
)

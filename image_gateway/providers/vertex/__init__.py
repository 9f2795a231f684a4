"""`vertex-ai`: Google's Vertex AI ("Gemini Enterprise Agent Platform"), synchronous JSON
(`kit/sync.py`), OAuth access tokens from google-auth.

- `config.py`  its settings: project, location, credentials file, express-mode key
- `models.py`  its catalogue (typed `VertexModel` data)
- `imagen.py`  Imagen's `:predict`: the pure translations and Imagen's own checks
- `gemini.py`  the Gemini image models' `:generateContent`: the `gemini` provider's
               translations plus Vertex's `imageConfig` fields
- `auth.py`    access tokens (google-auth, refreshed off the event loop, one at a time)
- `adapter.py` the provider: URLs per project and location, credentials, error mapping
               (Google's envelope read by `gemini/errors.py`)
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.vertex.config import VertexConfig

DEFINITION = ProviderDefinition(
    name="vertex-ai",
    label="Google Vertex AI (Agent Platform): Imagen and Gemini image models",
    config=VertexConfig,
    adapter="image_gateway.providers.vertex.adapter:VertexProvider",
    aliases=("vertex",),
    # Google API keys (express mode) and OAuth 2.0 access tokens.
    key_prefixes=("AIza", "ya29."),
)

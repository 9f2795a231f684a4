"""`bfl-flux`: Black Forest Labs' FLUX API, submit-and-poll (`kit/polling.py`).

- `config.py`   its settings
- `models.py`   its model catalogue (typed `BFLModel` data)
- `adapter.py`  the translation to and from BFL's API, and its error mapping
- `masks.py`    OpenAI-style masks (transparent = edit) to BFL's (white = edit)
"""

from image_gateway.providers.bfl.config import BFLConfig
from image_gateway.providers.kit.definition import ProviderDefinition

DEFINITION = ProviderDefinition(
    name="bfl-flux",
    label="Black Forest Labs FLUX API",
    config=BFLConfig,
    adapter="image_gateway.providers.bfl.adapter:BFLProvider",
    aliases=("bfl", "flux", "black-forest-labs"),
    env_aliases=("BFL",),
    key_prefixes=("bfl_",),
)

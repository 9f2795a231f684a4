"""`bfl-flux`: Black Forest Labs' FLUX API, submit-and-poll (`kit/polling.py`).

- `config.py`     its settings
- `models.py`     its model catalogue (typed `BFLModel` data)
- `translate.py`  pure translations: a task to BFL's JSON, its answers and error bodies back
- `adapter.py`    its checks of a request, input images, and the kit's hooks (`x-key`, URLs,
                  1 credit = $0.01)
- `masks.py`      OpenAI-style masks (transparent = edit) to BFL's (white = edit)
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

"""`together`: Together AI's Images API (FLUX models), synchronous (`kit/sync.py`), JSON.

- `config.py`     its settings (`TOGETHER_*`: `TOGETHER_API_KEY` is also what Together's SDKs read)
- `models.py`     its catalogue (typed `TogetherModel` data) and the FLUX ids passed through
- `translate.py`  pure translations: a task to the body of `/images/generations`, its answer
                  and error bodies back
- `adapter.py`    the kit's hooks and Together's own rules

Together's model ids have a slash (`black-forest-labs/FLUX.1-schnell`) whose first part is
also a name of `bfl-flux`, so requests name the provider:
`model: "together/black-forest-labs/FLUX.1-schnell"`.
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.together.config import TogetherConfig

DEFINITION = ProviderDefinition(
    name="together",
    label="Together AI (FLUX images)",
    config=TogetherConfig,
    adapter="image_gateway.providers.together.adapter:TogetherProvider",
    aliases=("together-ai", "togetherai"),
    # TOGETHER_API_KEY (together-python `constants.py`) is already the gateway's own name for
    # the key; no key prefix is documented, so none is declared.
)

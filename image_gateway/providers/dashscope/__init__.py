"""`dashscope`: Alibaba Cloud Model Studio (DashScope) image models — Wan and Qwen-Image —
through DashScope's asynchronous task API (`kit/polling.SubmitAndPollProvider`).

- `config.py`     its settings (`DASHSCOPE_*`; the base URL also as `DASHSCOPE_HTTP_BASE_URL`,
                  as dashscope-sdk-python reads it)
- `models.py`     its catalogue: Wan 2.5 / 2.2 / 2.1 text-to-image, Qwen-Image, and the edit
                  models (wan2.5-i2i-preview, wanx2.1-imageedit); sizes and parameters
- `translate.py`  pure translations: a task to DashScope's `{model, input, parameters}`, task
                  statuses and results to the kit's outcomes, its error bodies
- `adapter.py`    the kit's hooks and DashScope's own checks
"""

from image_gateway.providers.dashscope.config import DashScopeConfig
from image_gateway.providers.kit.definition import ProviderDefinition

DEFINITION = ProviderDefinition(
    name="dashscope",
    label="Alibaba Model Studio (DashScope: Wan, Qwen-Image)",
    config=DashScopeConfig,
    adapter="image_gateway.providers.dashscope.adapter:DashScopeProvider",
    aliases=("alibaba", "model-studio", "bailian"),
    sdk_variables={"base_url": ("DASHSCOPE_HTTP_BASE_URL",)},
    key_prefixes=("sk-",),  # DashScope keys are `sk-...` (Model Studio's own examples)
)

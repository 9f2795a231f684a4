"""One generation from request body to result: which provider and model may serve it
(candidates, the operator's named routes), the pre-flight every request passes, and the
dispatch that combines resilience, access and billing around the providers.

    candidates.py  provider and model choice, fallbacks, per-candidate validation
    routes.py      the operator's named routes (aliases) from ROUTES_FILE
    dispatch.py    pre-flight, admission, the resilient run, settlement, storage
    rendering.py   a generation's result and its one rendering as the OpenAI-shaped body
"""

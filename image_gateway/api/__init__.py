"""The HTTP surface: one router per resource, kept thin (parse, authorize, call the
dispatcher or the job service), their dependencies (`deps.py`), the pure-ASGI middleware
(`middleware.py`), and the one rendering of an error as an HTTP response
(`error_responses.py`)."""

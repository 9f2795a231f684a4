"""What the gateway tells operators: Prometheus metrics, JSON log lines and the start-up line
with its URLs.

    metrics.py   the per-app registry and its series
    logs.py      JSON log lines and query-string redaction
    announce.py  the start-up line naming the API and docs URLs
"""

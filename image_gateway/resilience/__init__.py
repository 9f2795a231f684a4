"""Surviving provider failures: everything that repeats, redirects or holds back upstream calls.

    policy.py   pure retry rules: what is retryable, Retry-After / retry-after-ms, backoff, caps
    breaker.py  a circuit breaker per provider (closed → open → half-open with one probe)
    limiter.py  per-provider (and per-model) concurrency pools with a bounded wait queue
    runner.py   runs a request's candidates under one deadline with all of the above

Adapters never retry (a generation costs money); they only describe each failure
(`ProviderError.retryable`, `retry_after`, `billed_unknown`, `outage`) and the runner decides.
This package imports nothing at import time so adapters can use `policy` without cycles.
"""

"""Asynchronous jobs: generations that outlive the request, survive restarts, and run on any
instance. The store holds each job's state (the source of truth); the queue only wakes a
worker up."""

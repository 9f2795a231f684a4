"""Who may do what: client keys and their authentication, scopes and allow-lists, per-key
rate and concurrency limits, and the admission every request passes before a provider is called.

    auth.py          presented keys: env keys, the admin key, stored keys, development mode
    keys.py          a new key's fields, its check against the catalogue, minting its text
    key_store.py     stored keys in the database (create, list, revoke, look up by hash)
    ratelimit.py     requests per minute and concurrent generations, local or in Redis
    controls.py      the seam the dispatcher calls: admit, settle, release, renew
    key_controls.py  its implementation: scopes, allow-lists, limits, budgets, the ledger
    persistence.py   the wiring of the above (and of billing) from settings
"""

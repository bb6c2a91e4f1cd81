"""Meta WhatsApp webhooks, the public-schema router (Django app label `webhooks`).

The path of one POST, one module each:
    wsgi.py       the fast path: webhook POSTs served without the middleware stack
    views.py      GET handshake; POST: size, signature (signature.py), JSON, then one journal INSERT
    throttle.py   the per-address budget of refused requests (429 past it), shared with the Flows endpoint
    journal.py    the journal as a work queue: record, claim with leases (SKIP LOCKED), budget, retry, prune
    schedules.py  its recurring jobs (the drain safety net, the prune); signals.py: account_event_applied
    tasks.py      the `process_webhooks` worker loop, the bounded drain, the prune and replay tasks
    processing.py one journal entry: parse (waba.webhook_events), route, apply in the tenant schema
    routing.py    one change -> one tenant (tenants.selectors.route_lookup), or a dead-letter reason
    dead_letters.py  a resumed tenant's dead letters replayed; old dead letters pruned
    meta_apps.py  which Meta apps may post, and their secrets (settings META_APP_*, MetaApp rows)
    receivers.py  a saved MetaApp drops its cached entry; a resumed tenant gets its dead letters
    models.py     WebhookJournalEntry, WebhookDeadLetter;  admin.py: both, with replay actions
What the events do in a tenant lives in messaging.inbound and messaging.statuses; higher apps hear of
them through messaging.signals and webhooks.signals.
"""

"""Outbound webhooks: a tenant's endpoints subscribe to event types; each event is written to an
outbox in the transaction of the change it reports, then delivered signed (Standard Webhooks) by
the `integrations_deliver` worker, retried with backoff, replayable by hand.

    event_types.py  the fixed list of event types an endpoint may subscribe to
    receivers.py    turns the lower apps' signals and saves into events (connected in apps.py)
    services.py     endpoints (create, update, roll secret, test event), events, replay
    url_guard.py    which URLs may receive (https, public addresses only)
    signing.py      secrets and the signature headers
    delivery.py     one attempt: claim with a lease, POST, record, schedule the retry
    worker.py       the loop of `manage.py integrations_deliver` and the schedule's drain
"""

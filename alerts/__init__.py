"""Alerting: incidents opened when something the tenant relies on goes wrong, told once on each channel.

models.py     Incident (one per condition and subject while it lasts) and AlertSettings (the channels)
conditions.py what is wrong now: an account's status, its numbers' and templates' state, the
              tenant's share of the webhook journal and dead letters
services.py   incidents opened and resolved against the conditions found; the settings
notify.py     the channels: e-mail to owners and admins (and extra addresses), the outbound
              webhook events alert.opened / alert.resolved, the console notice
receivers.py  the signals of the lower apps: applied account events, health-check logs
tasks.py      the schedule's fan-out (schedules.py): conditions that no event announces
"""

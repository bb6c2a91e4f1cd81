"""The audit log: who changed what, when and from where, through the API, the console or the admin.

Rows are written by model signals on an explicit registry of audited models (`registry.py`), in the
transaction of the change, only while a request names an actor (`context.py`): webhook processing,
workers and commands write nothing. Each row lives in the schema the change was made from: a
tenant's changes in its schema, the platform's in the public one.
"""

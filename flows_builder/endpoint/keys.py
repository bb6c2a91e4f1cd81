"""Business key pairs of the data-exchange endpoint: generate, upload to Meta, load once per process."""

from __future__ import annotations

import threading
from collections import OrderedDict

from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from flows_builder.crypto import generate_business_key_pair, load_private_key
from flows_builder.errors import FlowGraphError
from flows_builder.graph import account_graph_client, revealed
from flows_builder.models import FlowEndpointKey
from tenants.context import connection
from tenants.models import Tenant
from waba.graph import GraphError
from waba.models import PhoneNumber

PRIVATE_KEY_CACHE_SIZE = 256

# (schema, phone_number_id, key_version) -> parsed key. Parsing an RSA PEM (and decrypting it from
# the database) costs milliseconds; a request costs one indexed lookup of the key version instead.
_private_keys: OrderedDict[tuple[str, str, int], rsa.RSAPrivateKey] = OrderedDict()
_private_keys_lock = threading.Lock()


def flow_endpoint_key_ensure(*, phone_number: PhoneNumber, rotate: bool = False) -> FlowEndpointKey:
    """The number's key pair, created (or replaced when `rotate`) and uploaded to Meta when needed.

    The key is saved before the upload: a failed upload (FlowGraphError) leaves it stored with
    `uploaded_at` empty and the next call retries the upload with the same key.
    """
    key = FlowEndpointKey.objects.filter(phone_number=phone_number).first()
    if key is None or rotate:
        private_pem, public_pem = generate_business_key_pair()
        if key is None:
            key = FlowEndpointKey(phone_number=phone_number)
        else:
            key.key_version += 1
            key.rotated_at = timezone.now()
        key.private_key_pem = private_pem.decode("ascii")
        key.public_key_pem = public_pem.decode("ascii")
        key.uploaded_at = None
        key.save()
    if key.uploaded_at is None:
        _upload_public_key(key, phone_number)
    return key


def _upload_public_key(key: FlowEndpointKey, phone_number: PhoneNumber) -> None:
    client = account_graph_client(account=phone_number.account)
    try:
        client.set_business_public_key(phone_number.phone_number_id, key.public_key_pem)
    except GraphError as exc:
        raise FlowGraphError(
            f"Meta did not take the business public key of {phone_number.phone_number_id}: {exc}",
            details={**exc.as_dict(), "retryable": exc.retryable},
            retry_after_s=exc.retry_after_s,
        ) from None
    key.uploaded_at = timezone.now()
    key.save(update_fields=["uploaded_at"])


def endpoint_private_key(*, phone_number: PhoneNumber) -> rsa.RSAPrivateKey | None:
    """The number's private key, parsed once per process and key version; None when it has none."""
    version = (
        FlowEndpointKey.objects.filter(phone_number=phone_number)
        .values_list("key_version", flat=True)
        .first()
    )
    if version is None:
        return None
    cache_key = (connection.schema_name, phone_number.phone_number_id, version)
    with _private_keys_lock:
        cached = _private_keys.get(cache_key)
        if cached is not None:
            _private_keys.move_to_end(cache_key)
            return cached
    stored = FlowEndpointKey.objects.filter(phone_number=phone_number, key_version=version).first()
    if stored is None:  # rotated between the two reads: the next request sees the new version
        return None
    private_key = load_private_key(revealed(stored.private_key_pem).encode("ascii"))
    with _private_keys_lock:
        _private_keys[cache_key] = private_key
        while len(_private_keys) > PRIVATE_KEY_CACHE_SIZE:
            _private_keys.popitem(last=False)
    return private_key


def private_key_cache_clear() -> None:
    with _private_keys_lock:
        _private_keys.clear()


def endpoint_uri_for(*, phone_number: PhoneNumber) -> str:
    """The public URL Meta calls for flows served by this number (the current tenant's)."""

    tenant = Tenant.objects.get(schema_name=connection.schema_name)
    base = settings.FLOWS_ENDPOINT_BASE_URL or settings.PUBLIC_BASE_URL
    path = reverse(
        "flows-data-exchange",
        urlconf=settings.PUBLIC_SCHEMA_URLCONF,
        kwargs={"tenant_slug": tenant.slug, "phone_number_id": phone_number.phone_number_id},
    )
    return base.rstrip("/") + path

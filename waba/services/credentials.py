"""Access tokens: the Graph client of an account, and what Meta says about a token.

Tokens are decrypted here, at the last moment, and handed only to the Graph client (which sends
them in the Authorization header and redacts them from errors). Nothing here logs a token.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from platform_core.crypto import Secret
from waba import meta
from waba.errors import AccountNotReady, MetaCheckFailed, meta_error_details, meta_request_failed
from waba.graph import GraphAuthError, GraphClient, GraphError
from waba.meta import ErrorAction
from waba.models import WhatsAppAccount
from waba.services.accounts import account_mark_unhealthy


def secret_value(value: Secret | str | None) -> str:
    """The clear text of an encrypted field: a `Secret` once loaded, a str right after assignment."""
    if value is None:
        return ""
    return value.reveal() if isinstance(value, Secret) else str(value)


def secret_summary(value: Secret | str | None) -> dict:
    """What responses show of a secret: `{"set": bool, "last4": "..."}`."""
    if isinstance(value, str):
        value = Secret(value)
    return value.summary() if value is not None else {"set": False, "last4": ""}


def graph_client_for(account: WhatsAppAccount) -> GraphClient:
    """A Graph client holding the account's token (AccountNotReady when it has none)."""
    token = secret_value(account.access_token)
    if not token:
        raise AccountNotReady(
            f"The WhatsApp account {account.pk} has no access token yet: save setup step 3 first."
        )
    return GraphClient(token)


@contextmanager
def meta_call(*, account: WhatsAppAccount, doing: str) -> Iterator[GraphClient]:
    """Run Graph calls for `account`: a dead token or a restriction marks it unhealthy, and
    every Graph error leaves as the domain error the API shows (`waba.errors.meta_request_failed`).
    """
    client = graph_client_for(account)
    try:
        yield client
    except GraphError as error:
        if account.status != WhatsAppAccount.Status.DRAFT and error.action in (
            ErrorAction.AUTH_INVALID,
            ErrorAction.ACCOUNT_RESTRICTED,
        ):
            account_mark_unhealthy(account=account, reason=f"Meta: {error.message}", code=error.code)
        raise meta_request_failed(error, doing=doing) from None


@dataclass(frozen=True)
class TokenFacts:
    app_id: str | None
    expires_at: datetime | None
    scopes: list[str]


def token_inspect(*, access_token: str, waba_id: str | None, app_id: str | None) -> TokenFacts:
    """Ask Meta (`debug_token`) whether the token is alive, has the WhatsApp scopes, can see the
    WABA and belongs to the app. Raises MetaCheckFailed naming the field to fix.
    """
    try:
        data = GraphClient(access_token).debug_token(access_token).get("data") or {}
    except GraphAuthError as error:
        raise _token_invalid(error.message, meta_error_details(error)) from None
    except GraphError as error:
        raise meta_request_failed(error, doing="check the access token") from None
    if not data.get("is_valid"):
        meta_error = data.get("error") or {}
        raise _token_invalid(
            str(meta_error.get("message") or "Meta says the token is not valid."),
            {"meta_code": meta_error.get("code"), "meta_subcode": meta_error.get("subcode")},
        )
    scopes = [str(scope) for scope in data.get("scopes") or []]
    missing = [scope for scope in meta.REQUIRED_TOKEN_SCOPES if scope not in scopes]
    if missing:
        raise MetaCheckFailed(
            f"The access token lacks the permissions {', '.join(missing)}.",
            code="token_scope_missing",
            details=[{"field": "access_token", "message": f"missing scopes: {missing}", "type": "token_scope_missing"}],
        )
    token_app_id = str(data["app_id"]) if data.get("app_id") else None
    if app_id and token_app_id and token_app_id != app_id:
        raise MetaCheckFailed(
            f"The access token belongs to Meta app {token_app_id}, not to app {app_id} of step 1: webhooks "
            "would go to the other app.",
            code="token_app_mismatch",
            details=[
                {"field": "access_token", "message": f"token of app {token_app_id}", "type": "token_app_mismatch"},
                {"field": "app_id", "message": f"the token belongs to app {token_app_id}", "type": "token_app_mismatch"},
            ],
        )
    if waba_id and not _token_sees_waba(data, waba_id):
        raise MetaCheckFailed(
            f"The access token has no access to the WhatsApp Business Account {waba_id}. Give the system "
            "user that WABA in Meta's Business Manager, or check the WABA id.",
            code="token_cannot_see_waba",
            details=[
                {"field": "access_token", "message": f"cannot see WABA {waba_id}", "type": "token_cannot_see_waba"},
                {"field": "waba_id", "message": "not visible to this access token", "type": "token_cannot_see_waba"},
            ],
        )
    expires = int(data.get("expires_at") or 0)
    return TokenFacts(
        app_id=token_app_id,
        expires_at=datetime.fromtimestamp(expires, tz=UTC) if expires else None,
        scopes=scopes,
    )


def _token_sees_waba(data: dict, waba_id: str) -> bool:
    """Granular scopes list the WABAs a token may use; a scope without target_ids covers all."""
    granular = [item for item in data.get("granular_scopes") or [] if item.get("scope") in meta.REQUIRED_TOKEN_SCOPES]
    if not granular:
        return True
    return all(
        "target_ids" not in item or waba_id in {str(target) for target in item.get("target_ids") or []}
        for item in granular
    )


def _token_invalid(meta_message: str, meta_details: dict) -> MetaCheckFailed:
    return MetaCheckFailed(
        f"Meta says the access token is not valid: {meta_message}",
        code="token_invalid",
        details=[{"field": "access_token", "message": meta_message, "type": "token_invalid", **meta_details}],
    )

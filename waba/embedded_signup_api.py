"""Tenant API of Embedded Signup: complete "Connect with Facebook" with what the window handed back.

Thin: the body goes to `waba.services.embedded_signup`, which validates it field by field.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Body, Router, Schema, Status

from waba.api import account_out
from waba.schemas import AccountOut, TemplatesImportOut
from waba.services.embedded_signup import EmbeddedSignupInput, EmbeddedSignupResult, embedded_signup_complete

router = Router(tags=["setup wizard"])


class EmbeddedSignupOut(Schema):
    account: AccountOut
    created: bool  # false: the account existed (a retried completion, or a number added to it)
    phone_number_added: bool  # true: the number joined this workspace's account of the same WABA
    two_step_pin: str | None  # the PIN chosen for the number when none was sent; shown only here
    templates: TemplatesImportOut | None  # the WABA's templates imported at connection (null on a retry)


def embedded_signup_out(result: EmbeddedSignupResult) -> dict[str, Any]:
    templates = result.templates
    return {
        "account": account_out(result.account),
        "created": result.created,
        "phone_number_added": result.phone_number_added,
        "two_step_pin": result.pin or None,
        "templates": {
            "imported": not templates.error_code,
            "counts": templates.counts,
            "error": {"code": templates.error_code, "message": templates.error_message} if templates.error_code else None,
        }
        if result.created
        else None,
    }


@router.post(
    "/setup/embedded-signup",
    response={200: EmbeddedSignupOut, 201: EmbeddedSignupOut},
    description="Complete Embedded Signup: `code` from the login response, `waba_id` and `phone_number_id` "
    "from the `WA_EMBEDDED_SIGNUP` session-info message, and optionally the number's two-step `pin` (6 digits; "
    "one is chosen and answered once when left out). Answers 201 with the live account, also when the number "
    "joins this workspace's account of the same WABA (`phone_number_added`), or 200 when a retried completion "
    "finds it already connected. Any failure leaves nothing behind.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EmbeddedSignupInput.model_json_schema()}},
        }
    },
)
def embedded_signup(request: HttpRequest, payload: Body[dict[str, Any]]):
    result = embedded_signup_complete(data=payload)
    return Status(201 if result.created or result.phone_number_added else 200, embedded_signup_out(result))

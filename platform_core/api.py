"""The two NinjaAPI instances and the one error shape every API error takes.

Every error, from our services, from django-ninja's validation, from auth or from
a crash, leaves as `{"error": {"code": "...", "message": "...", "details": ...}}`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from platform_core.errors import DomainError

logger = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}


def error_response(
    status: int, code: str | None = None, message: str = "", details: Any = None, headers: dict | None = None
) -> JsonResponse:
    body = {
        "error": {"code": code or STATUS_CODES.get(status, "error"), "message": message, "details": details}
    }
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _validation_details(errors: list[dict]) -> list[dict]:
    details = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        # ninja prefixes the source ("body", "query", "path"); keep it, it tells the caller where to look.
        details.append(
            {"field": ".".join(location), "message": error.get("msg", ""), "type": error.get("type", "")}
        )
    return details


def register_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        headers = {}
        retry_after = getattr(exc, "retry_after_s", None)
        if retry_after is not None:
            headers["Retry-After"] = str(max(1, int(round(retry_after))))
        return error_response(exc.status, exc.code, exc.message, exc.details, headers)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return error_response(
            422, "validation_error", "The request has invalid fields.", _validation_details(exc.errors)
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(
            401,
            "unauthorized",
            "Missing or invalid API key. Send 'Authorization: Bearer <key>' with a live key "
            "of this workspace.",
        )

    @api.exception_handler(AuthorizationError)
    def authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        return error_response(403, "forbidden", "This key may not do that.")

    @api.exception_handler(PermissionDenied)
    def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(403, "forbidden", str(exc) or "Forbidden.")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(
            413, "payload_too_large", "The request body is larger than this endpoint accepts."
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, "not_found", str(exc) or "Not found.")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return error_response(exc.status_code, None, str(exc))

    @api.exception_handler(Exception)
    def unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Unhandled API error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong on our side. It has been logged.")


def build_api(*, title: str, urls_namespace: str, description: str, auth: Any) -> NinjaAPI:
    api = NinjaAPI(
        title=title,
        version="1.0",
        description=description,
        urls_namespace=urls_namespace,
        auth=auth,
        docs_url="/docs",
    )
    register_error_handlers(api)
    return api


def wants_json(request: HttpRequest) -> bool:
    """API and webhook paths answer errors in the JSON error shape; everything else gets HTML pages."""
    return request.path.startswith(("/api/", "/webhooks/"))


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404 for the urlconfs: JSON under /api/ and /webhooks/, Django's page elsewhere."""
    if wants_json(request):
        return error_response(404, "not_found", f"No endpoint at {request.path}.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def api_server_error(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        return error_response(500, "internal_error", "Something went wrong on our side. It has been logged.")
    from django.views.defaults import server_error

    return server_error(request)

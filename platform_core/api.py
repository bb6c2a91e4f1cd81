"""The two NinjaAPI instances, the one error shape every API error takes, and the input bounds.

Every error, from our services, from django-ninja's validation, from auth or from
a crash, leaves as `{"error": {"code": "...", "message": "...", "details": ...}}`.

Input the database cannot hold is refused with 422 before any endpoint runs: `InputParser` checks
every string of every query, form and JSON body (NUL characters, lone surrogates); schemas bound
their integers with the types below; every list is paged by `Pagination` (`limit` at most
`MAX_PAGE_SIZE`; beyond the bounds, 422 naming the field).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar, cast, get_type_hints, overload

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.datastructures import MultiValueDict
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.parser import Parser
from pydantic import AfterValidator

from platform_core.errors import DomainError
from platform_core.text import json_unstorable_path, text_unstorable_reason

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


# --- input bounds -----------------------------------------------------------------------------

PG_INTEGER_MAX = 2**31 - 1  # PostgreSQL `integer` columns (IntegerField, PositiveIntegerField)
PG_BIGINT_MAX = 2**63 - 1  # PostgreSQL `bigint` columns: every primary and foreign key
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 100
# Deeper JSON bodies are refused: services walk structures recursively (menus, Flow JSON), and no
# real request nests anywhere near this.
MAX_BODY_NESTING = 64

RowId = Annotated[int, Field(ge=1, le=PG_BIGINT_MAX)]
"""The id of a stored row (a primary or foreign key)."""
Int32 = Annotated[int, Field(ge=-PG_INTEGER_MAX - 1, le=PG_INTEGER_MAX)]
NonNegativeInt32 = Annotated[int, Field(ge=0, le=PG_INTEGER_MAX)]


def _in_utc(value: datetime) -> datetime:
    # PostgreSQL refuses UTC offsets beyond 15:59 that Python accepts (up to 23:59), so the offset
    # never reaches it: a time is compared in UTC; one without an offset is taken as UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the supported range (years 1 to 9999 in UTC)") from None


UtcDateTime = Annotated[datetime, AfterValidator(_in_utc)]
"""A point in time, ISO 8601; any UTC offset is accepted and converted to UTC."""


# Visible ASCII: what an HTTP header carries in practice, and never a NUL.
HEADER_TOKEN_PATTERN = r"^[\x21-\x7e]+$"


class Pagination(LimitOffsetPagination):
    """Every list's pages: `?limit=&offset=`, answered as `{"items": [...], "count": <total>}`.

    A `limit` above MAX_PAGE_SIZE or an offset beyond PG_INTEGER_MAX is refused (422 naming the
    field), never clamped, so a client learns the bounds instead of silently getting less.
    """

    class Input(Schema):
        limit: int = Field(
            DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, 1 to {MAX_PAGE_SIZE}."
        )
        offset: int = Field(0, ge=0, le=PG_INTEGER_MAX, description="Items to skip before the page.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_PAGE_SIZE, **kwargs)


ViewT = TypeVar("ViewT", bound=Callable[..., Any])


def paginated(view: ViewT) -> ViewT:
    """Page a list endpoint with `Pagination`: it returns a queryset, a list or `ShapedRows`.

    django-ninja resolves a paginated view's string annotations (`from __future__ import
    annotations`) in its own module, where names such as `RowId` do not exist; they are resolved
    here, in the view's module, first.
    """
    view.__annotations__ = get_type_hints(view, include_extras=True)
    return cast(ViewT, paginate(Pagination)(view))


RowT = TypeVar("RowT")


class ShapedRows(Sequence[Any], Generic[RowT]):
    """Rows that `Pagination` pages before each is shaped for output (`shape` runs only on the page).

    For endpoints whose output is built by a function rather than read from model attributes:
    `return ShapedRows(selectors.accounts_list(), account_out)` under `@paginated`.
    """

    def __init__(self, rows: QuerySet[Any] | Sequence[RowT], shape: Callable[[RowT], Any]) -> None:
        self.rows = rows
        self.shape = shape

    def __len__(self) -> int:
        return self.rows.count() if isinstance(self.rows, QuerySet) else len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self.shape(row) for row in self.rows[index]]
        return self.shape(self.rows[index])


def _input_error(location: Iterable[str | int], reason: str, kind: str) -> ValidationError:
    return ValidationError([{"loc": tuple(location), "msg": reason, "type": kind}])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


def _nested_deeper_than(data: Any, limit: int) -> tuple[str | int, ...] | None:
    """The path of a value inside more than `limit` objects and arrays, or None when there is none."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > limit:
            return path
        if isinstance(value, dict):
            stack.extend((child, (*path, key)) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(value))
    return None


class InputParser(Parser):
    """The parser of both APIs: refuses what the database or the services could not take.

    One check for every query, form and JSON body of every operation, typed or free-form, before
    any schema or endpoint sees the value: strings PostgreSQL cannot store (NUL, lone surrogates)
    and bodies nested deeper than MAX_BODY_NESTING answer 422 naming the field (`query.name`,
    `body.text.body`); NaN, Infinity and numbers too large for a float answer 400 like other
    malformed JSON.
    """

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        # django-ninja answers 400 "Cannot parse request body" for whatever this raises; the
        # HttpError handler below turns the ValidationErrors raised here into the usual 422.
        data = json.loads(request.body, parse_constant=_refuse_constant, parse_float=_finite_float)
        too_deep = _nested_deeper_than(data, MAX_BODY_NESTING)
        if too_deep is not None:
            raise _input_error(("body", *too_deep), f"nested more than {MAX_BODY_NESTING} levels deep", "too_deep")
        found = json_unstorable_path(data)
        if found is not None:
            path, reason = found
            raise _input_error(("body", *path), reason, "string_unstorable")
        return cast(dict[str, Any], data)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        source = "query" if data is request.GET else "form"
        for key, values in data.lists():
            for value in (key, *values):
                reason = text_unstorable_reason(value) if isinstance(value, str) else None
                if reason:
                    raise _input_error((source, key), reason, "string_unstorable")
        return super().parse_querydict(data, list_fields, request)


def error_body(status: int, code: str | None = None, message: str = "", details: Any = None) -> dict[str, Any]:
    """The platform's error shape: `{"error": {"code", "message", "details"}}`."""
    return {"error": {"code": code or STATUS_CODES.get(status, "error"), "message": message, "details": details}}


def error_response(
    status: int, code: str | None = None, message: str = "", details: Any = None, headers: dict | None = None
) -> JsonResponse:
    response = JsonResponse(error_body(status, code, message, details), status=status)
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


def _validation_response(exc: ValidationError) -> HttpResponse:
    return error_response(
        422, "validation_error", "The request has invalid fields.", _validation_details(exc.errors)
    )


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
        return _validation_response(exc)

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
        if isinstance(exc.__cause__, ValidationError):  # InputParser refused a body
            return _validation_response(exc.__cause__)
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
        parser=InputParser(),
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

"""CSV downloads of the console, streamed a few hundred rows at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect

from platform_core.errors import DomainError


def csv_download(
    request: HttpRequest, *, lines: Callable[[], Iterator[str]], filename: str, back: str
) -> HttpResponseBase:
    """Stream `lines()` as `filename`. A filter that cannot be applied fails on the first line, before
    anything is sent: the user goes back to the page named `back` with the error's message."""
    try:
        produced = lines()
        first = next(produced)
    except DomainError as failure:
        messages.error(request, failure.message)
        return redirect(back)

    def stream() -> Iterator[str]:
        yield first
        yield from produced

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

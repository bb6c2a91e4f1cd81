"""The Graph API client against httpx.MockTransport: exact requests, error mapping, no token leaks."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import httpx
import pytest

from waba import meta
from waba.graph import (
    GraphAccountRestricted,
    GraphAuthError,
    GraphClient,
    GraphMediaTooLarge,
    GraphPairRateLimited,
    GraphPermanentError,
    GraphPermissionError,
    GraphThrottled,
    GraphTransientError,
    GraphUnavailable,
)
from waba.graph import client as client_module
from waba.meta import ErrorAction

TOKEN = "EAAG-secret-waba-token-0123456789"
BASE_URL = "https://graph.test"

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that records requests and answers from a queue (or one response)."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses) or [httpx.Response(200, json={"success": True})]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def graph(handler: Handler) -> GraphClient:
    return GraphClient(TOKEN, base_url=BASE_URL, version="v23.0", transport=httpx.MockTransport(handler))


def meta_error(
    http_status: int, code: int, *, subcode: int | None = None, details: str | None = None, **headers
):
    error: dict = {
        "message": f"(#{code}) Something",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbC",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return httpx.Response(http_status, json={"error": error}, headers=headers)


def body_of(request: httpx.Request) -> dict:
    return json.loads(request.content)


# --- requests -----------------------------------------------------------------------------------


def test_send_message_posts_payload_with_messaging_product_and_bearer_token():
    sent = {"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": "wamid.1"}]}
    recorder = Recorder(httpx.Response(200, json=sent))

    answer = graph(recorder).send_message(
        "1234", {"to": "15551234567", "type": "text", "text": {"body": "hi"}}
    )

    request = recorder.last
    assert answer == sent
    assert request.method == "POST"
    assert str(request.url) == "https://graph.test/v23.0/1234/messages"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert body_of(request) == {
        "messaging_product": "whatsapp",
        "to": "15551234567",
        "type": "text",
        "text": {"body": "hi"},
    }


def test_mark_read():
    recorder = Recorder()
    graph(recorder).mark_read("1234", "wamid.X")
    assert str(recorder.last.url) == "https://graph.test/v23.0/1234/messages"
    assert body_of(recorder.last) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.X",
    }


def test_phone_numbers_and_registration():
    recorder = Recorder(httpx.Response(200, json={"data": []}))
    client = graph(recorder)

    client.list_phone_numbers("waba1")
    assert (recorder.last.method, str(recorder.last.url)) == (
        "GET",
        "https://graph.test/v23.0/waba1/phone_numbers",
    )

    client.get_phone_number("pn1", fields=("quality_rating", "throughput"))
    assert recorder.last.url.path == "/v23.0/pn1"
    assert recorder.last.url.params["fields"] == "quality_rating,throughput"

    client.get_phone_number("pn1")
    assert recorder.last.url.params["fields"] == ",".join(meta.PHONE_NUMBER_FIELDS)

    client.register_phone_number("pn1", "123456")
    assert str(recorder.last.url) == "https://graph.test/v23.0/pn1/register"
    assert body_of(recorder.last) == {"messaging_product": "whatsapp", "pin": "123456"}


def test_subscribed_apps():
    recorder = Recorder()
    client = graph(recorder)
    client.subscribe_app("waba1")
    assert (recorder.last.method, recorder.last.url.path) == ("POST", "/v23.0/waba1/subscribed_apps")
    client.list_subscribed_apps("waba1")
    assert (recorder.last.method, recorder.last.url.path) == ("GET", "/v23.0/waba1/subscribed_apps")


def test_debug_token_sends_input_token_as_query_param():
    recorder = Recorder(httpx.Response(200, json={"data": {"is_valid": True}}))
    answer = graph(recorder).debug_token("INPUT-token-to-inspect")
    assert answer == {"data": {"is_valid": True}}
    assert recorder.last.url.path == "/v23.0/debug_token"
    assert recorder.last.url.params["input_token"] == "INPUT-token-to-inspect"
    assert recorder.last.headers["Authorization"] == f"Bearer {TOKEN}"


def test_templates_create_list_delete():
    recorder = Recorder(httpx.Response(200, json={"id": "t1", "status": "PENDING", "category": "UTILITY"}))
    client = graph(recorder)
    components = [{"type": "BODY", "text": "Hello {{1}}", "example": {"body_text": [["Ann"]]}}]

    answer = client.create_template(
        "waba1", "order_update", "en_US", meta.TemplateCategory.UTILITY, components
    )

    assert answer["status"] == "PENDING"
    assert str(recorder.last.url) == "https://graph.test/v23.0/waba1/message_templates"
    assert body_of(recorder.last) == {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "components": components,
    }

    client.list_templates("waba1", limit=50, after="CUR")
    assert recorder.last.method == "GET"
    assert dict(recorder.last.url.params) == {"limit": "50", "after": "CUR"}

    client.delete_template("waba1", "order_update")
    assert recorder.last.method == "DELETE"
    assert str(recorder.last.url) == "https://graph.test/v23.0/waba1/message_templates?name=order_update"


def test_iter_templates_follows_after_cursor_until_the_last_page():
    pages = [
        {
            "data": [{"name": "a"}, {"name": "b"}],
            "paging": {"cursors": {"before": "B0", "after": "A1"}, "next": "x"},
        },
        {"data": [{"name": "c"}], "paging": {"cursors": {"before": "B1", "after": "A2"}}},
        {"data": []},
    ]
    recorder = Recorder(*(httpx.Response(200, json=page) for page in pages))

    names = [template["name"] for template in graph(recorder).iter_templates("waba1", page_size=2)]

    assert names == ["a", "b", "c"]
    assert [request.url.params.get("after") for request in recorder.requests] == [None, "A1", "A2"]
    assert {request.url.params["limit"] for request in recorder.requests} == {"2"}


def test_iter_templates_stops_on_a_repeated_cursor():
    page = {"data": [{"name": "a"}], "paging": {"cursors": {"after": "SAME"}}}
    recorder = Recorder(httpx.Response(200, json=page))
    assert len(list(graph(recorder).iter_templates("waba1"))) == 2
    assert len(recorder.requests) == 2


def test_create_flow_sends_flow_json_as_a_string():
    recorder = Recorder(httpx.Response(200, json={"id": "flow1", "success": True, "validation_errors": []}))
    flow_json = {"version": "7.0", "screens": []}

    graph(recorder).create_flow(
        "waba1", "signup", [meta.FlowCategory.SIGN_UP], flow_json=flow_json, publish=True
    )

    assert str(recorder.last.url) == "https://graph.test/v23.0/waba1/flows"
    assert body_of(recorder.last) == {
        "name": "signup",
        "categories": ["SIGN_UP"],
        "flow_json": json.dumps(flow_json),
        "publish": True,
    }


def test_create_flow_without_json_sends_no_publish_flag():
    recorder = Recorder(httpx.Response(200, json={"id": "flow1"}))
    graph(recorder).create_flow("waba1", "signup", ["OTHER"])
    assert body_of(recorder.last) == {"name": "signup", "categories": ["OTHER"]}


def test_upload_flow_json_is_multipart():
    recorder = Recorder(httpx.Response(200, json={"success": True, "validation_errors": []}))
    flow_json = '{"version": "7.0", "screens": []}'

    graph(recorder).upload_flow_json("flow1", flow_json)

    request = recorder.last
    assert (request.method, str(request.url)) == ("POST", "https://graph.test/v23.0/flow1/assets")
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    content = request.content.decode()
    assert 'name="file"; filename="flow.json"' in content
    assert "Content-Type: application/json" in content
    assert flow_json in content
    assert 'name="name"\r\n\r\nflow.json\r\n' in content
    assert 'name="asset_type"\r\n\r\nFLOW_JSON\r\n' in content


def test_flow_lifecycle_calls():
    recorder = Recorder()
    client = graph(recorder)
    client.publish_flow("f1")
    assert (recorder.last.method, recorder.last.url.path) == ("POST", "/v23.0/f1/publish")
    client.deprecate_flow("f1")
    assert (recorder.last.method, recorder.last.url.path) == ("POST", "/v23.0/f1/deprecate")
    client.delete_flow("f1")
    assert (recorder.last.method, recorder.last.url.path) == ("DELETE", "/v23.0/f1")
    client.get_flow("f1", ["status", "validation_errors"])
    assert recorder.last.url.params["fields"] == "status,validation_errors"
    client.list_flows("waba1")
    assert (recorder.last.method, recorder.last.url.path) == ("GET", "/v23.0/waba1/flows")


def test_set_business_public_key_is_form_encoded():
    recorder = Recorder()
    pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"
    graph(recorder).set_business_public_key("pn1", pem)
    assert recorder.last.url.path == "/v23.0/pn1/whatsapp_business_encryption"
    assert recorder.last.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert httpx.QueryParams(recorder.last.content.decode())["business_public_key"] == pem


def test_get_media():
    recorder = Recorder(
        httpx.Response(200, json={"url": "https://lookaside.fbsbx.com/x", "mime_type": "image/jpeg"})
    )
    assert graph(recorder).get_media("media1")["mime_type"] == "image/jpeg"
    assert (recorder.last.method, recorder.last.url.path) == ("GET", "/v23.0/media1")


def test_download_media_sends_the_token_in_the_header():
    recorder = Recorder(httpx.Response(200, content=b"JPEGDATA"))
    data = graph(recorder).download_media(
        "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", 100
    )
    assert data == b"JPEGDATA"
    assert recorder.last.headers["Authorization"] == f"Bearer {TOKEN}"


def test_download_media_refuses_a_declared_size_over_the_limit():
    recorder = Recorder(httpx.Response(200, content=b"x" * 11))
    with pytest.raises(GraphMediaTooLarge) as caught:
        graph(recorder).download_media("https://lookaside.fbsbx.com/m", 10)
    assert (caught.value.max_bytes, caught.value.actual_bytes) == (10, 11)
    assert not caught.value.retryable


def test_download_media_stops_streaming_past_the_limit():
    def chunks():
        for _ in range(100):
            yield b"x" * 4

    recorder = Recorder(httpx.Response(200, content=chunks()))  # chunked: no Content-Length
    with pytest.raises(GraphMediaTooLarge) as caught:
        graph(recorder).download_media("https://lookaside.fbsbx.com/m", 10)
    assert caught.value.actual_bytes == 12


def test_download_media_from_the_graph_host_is_allowed_for_the_simulator():
    recorder = Recorder(httpx.Response(200, content=b"ok"))
    client = GraphClient(TOKEN, base_url="http://localhost:8001", transport=httpx.MockTransport(recorder))
    assert client.download_media("http://localhost:8001/media/abc", 10) == b"ok"


@pytest.mark.parametrize(
    "url", ["https://evil.example/m", "http://lookaside.fbsbx.com/m", "https://fbsbx.com.evil/m"]
)
def test_download_media_never_sends_the_token_to_other_hosts(url):
    recorder = Recorder()
    with pytest.raises(ValueError):
        graph(recorder).download_media(url, 10)
    assert recorder.requests == []


def test_download_media_maps_errors():
    recorder = Recorder(meta_error(404, 100, details="media not found"))
    with pytest.raises(GraphPermanentError):
        graph(recorder).download_media("https://lookaside.fbsbx.com/m", 10)


# --- error mapping ------------------------------------------------------------------------------


def test_expired_token_is_an_auth_error_and_not_retryable():
    recorder = Recorder(meta_error(401, 190, subcode=463))
    with pytest.raises(GraphAuthError) as caught:
        graph(recorder).send_message("pn1", {"to": "1", "type": "text", "text": {"body": "x"}})
    error = caught.value
    assert (error.code, error.subcode, error.http_status, error.fbtrace_id) == (190, 463, 401, "AbC")
    assert error.error_type == "OAuthException"
    assert error.action is ErrorAction.AUTH_INVALID
    assert not error.retryable
    assert error.retry_after_s is None


def test_throughput_exceeded_is_throttled_and_retryable():
    with pytest.raises(GraphThrottled) as caught:
        graph(Recorder(meta_error(400, 130429))).send_message("pn1", {})
    assert caught.value.retryable
    assert caught.value.retry_after_s == 2.0


def test_retry_after_header_wins_over_the_default():
    with pytest.raises(GraphThrottled) as caught:
        graph(Recorder(meta_error(429, 80007, **{"Retry-After": "30"}))).send_message("pn1", {})
    assert caught.value.retry_after_s == 30.0


def test_unknown_code_with_http_429_is_throttled():
    with pytest.raises(GraphThrottled):
        graph(Recorder(httpx.Response(429, text="slow down"))).send_message("pn1", {})


def test_pair_rate_limit_waits_six_seconds():
    with pytest.raises(GraphPairRateLimited) as caught:
        graph(Recorder(meta_error(400, 131056))).send_message("pn1", {})
    assert caught.value.retryable
    assert caught.value.retry_after_s == 6.0
    assert caught.value.action is ErrorAction.PAIR_RATE


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, text="<html>oops</html>"),
        httpx.Response(503),
        meta_error(500, 131000),
        meta_error(400, 131016),
        meta_error(400, 2),
    ],
)
def test_server_errors_are_transient(response):
    with pytest.raises(GraphTransientError) as caught:
        graph(Recorder(response)).send_message("pn1", {})
    assert caught.value.retryable
    assert caught.value.retry_after_s == 2.0
    assert caught.value.action is ErrorAction.RETRY


def test_timeout_is_unavailable_and_retryable():
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(GraphUnavailable) as caught:
        graph(timeout).send_message("pn1", {})
    error = caught.value
    assert isinstance(error, GraphTransientError)
    assert error.retryable and error.retry_after_s == 2.0
    assert error.http_status is None
    assert error.may_have_been_processed
    assert "timed out" in str(error)


def test_connection_refused_was_never_processed():
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(GraphUnavailable) as caught:
        graph(refused).list_flows("waba1")
    assert caught.value.retryable
    assert not caught.value.may_have_been_processed


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.ProxyError,
        httpx.UnsupportedProtocol,
        httpx.LocalProtocolError,
        httpx.WriteTimeout,
    ],
)
def test_failures_before_the_whole_request_left_were_never_processed(failure):
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure("failed", request=request)

    with pytest.raises(GraphUnavailable) as caught:
        graph(fail).send_message("pn1", {})
    assert caught.value.retryable
    assert not caught.value.may_have_been_processed


@pytest.mark.parametrize(
    "failure", [httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.WriteError]
)
def test_failures_once_the_request_may_have_left_leave_the_outcome_unknown(failure):
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure("[Errno 9] Bad file descriptor", request=request)

    with pytest.raises(GraphUnavailable) as caught:
        graph(fail).send_message("pn1", {})
    assert caught.value.may_have_been_processed


@pytest.mark.parametrize(
    ("code", "details"),
    [
        (131047, "Message failed to send because more than 24 hours have passed"),
        (132000, "body: number of localizable_params (1) does not match the expected number of params (2)"),
    ],
)
def test_permanent_errors_carry_details(code, details):
    with pytest.raises(GraphPermanentError) as caught:
        graph(Recorder(meta_error(400, code, subcode=2494010, details=details))).send_message("pn1", {})
    error = caught.value
    assert error.code == code
    assert error.details == details
    assert not error.retryable and error.retry_after_s is None
    assert details in str(error)
    assert error.as_dict()["details"] == details


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (131048, GraphAccountRestricted),
        (368, GraphAccountRestricted),
        (10, GraphPermissionError),
        (200, GraphPermissionError),
    ],
)
def test_account_and_permission_errors(code, error_class):
    with pytest.raises(error_class) as caught:
        graph(Recorder(meta_error(403, code))).send_message("pn1", {})
    assert not caught.value.retryable


def test_unknown_4xx_is_permanent():
    with pytest.raises(GraphPermanentError):
        graph(Recorder(meta_error(400, 999999))).send_message("pn1", {})


def test_error_data_encoded_as_a_json_string_is_understood():
    response = httpx.Response(
        400,
        json={"error": {"message": "Invalid", "code": 100, "error_data": json.dumps({"details": "bad to"})}},
    )
    with pytest.raises(GraphPermanentError) as caught:
        graph(Recorder(response)).send_message("pn1", {})
    assert caught.value.details == "bad to"


def test_non_json_success_body_is_transient():
    with pytest.raises(GraphTransientError):
        graph(Recorder(httpx.Response(200, text="<html>proxy</html>"))).send_message("pn1", {})


# --- secrets ------------------------------------------------------------------------------------


def test_the_token_never_appears_in_the_url_errors_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    echoing = meta_error(400, 190, details=f"token {TOKEN} is invalid")
    echoing_json = echoing.json()
    echoing_json["error"]["message"] = f"Invalid OAuth access token {TOKEN}"
    recorder = Recorder(
        httpx.Response(200, json={"messages": [{"id": "wamid.1"}]}),
        httpx.Response(401, json=echoing_json),
    )
    client = graph(recorder)

    client.send_message("pn1", {"to": "1", "type": "text", "text": {"body": "x"}})
    with pytest.raises(GraphAuthError) as caught:
        client.list_templates("waba1")

    assert all(TOKEN not in str(request.url) for request in recorder.requests)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert TOKEN not in repr(client)
    assert "[redacted]" in caught.value.message
    assert_not_logged(caplog, TOKEN)
    assert any(
        record.name == "waba.graph.client"
        and record.getMessage().startswith("graph POST /v23.0/pn1/messages -> 200 in")
        for record in caplog.records
    )


def test_debug_token_input_token_is_redacted_from_logs_and_errors(caplog):
    caplog.set_level(logging.DEBUG)
    inspected = "INPUT-token-under-inspection-42"
    response = httpx.Response(
        400, json={"error": {"message": f"Malformed access token {inspected}", "code": 190}}
    )

    with pytest.raises(GraphAuthError) as caught:
        graph(Recorder(response)).debug_token(inspected)

    assert inspected not in str(caught.value)
    assert_not_logged(caplog, inspected)
    assert_not_logged(caplog, TOKEN)
    assert any("debug_token" in record.getMessage() for record in caplog.records)


def test_transport_error_messages_are_redacted():
    def leaky(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach https://x/?access_token={TOKEN}", request=request)

    with pytest.raises(GraphUnavailable) as caught:
        graph(leaky).send_message("pn1", {})
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)


def assert_not_logged(caplog, secret: str) -> None:
    assert caplog.records, "expected log records"
    assert secret not in caplog.text
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in str(record.args)


# --- pooling and settings -----------------------------------------------------------------------


def test_each_thread_has_its_own_http_client_per_base_url():
    """No connection pool is shared between threads (see waba.graph.client), and a thread reuses its own."""
    client_module.close_shared_clients()
    try:
        seen: list[tuple[httpx.Client, httpx.Client]] = []
        barrier = threading.Barrier(8)
        shared_handle = GraphClient(TOKEN, base_url="https://pool.test")

        def make() -> None:
            barrier.wait()
            mine = GraphClient(f"token-{threading.get_ident()}", base_url="https://pool.test")._http
            seen.append((mine, shared_handle._http))

        threads = [threading.Thread(target=make) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert all(mine is through_handle for mine, through_handle in seen)  # a handle uses the caller's
        assert len({id(mine) for mine, _ in seen}) == 8
        here = GraphClient(TOKEN, base_url="https://pool.test")._http
        assert here is shared_handle._http and here not in [mine for mine, _ in seen]
        other = GraphClient(TOKEN, base_url="https://other.test")._http
        assert other is not here
        assert GraphClient(TOKEN, base_url="https://other.test/")._http is other
    finally:
        client_module.close_shared_clients()


def test_defaults_without_django_settings(monkeypatch):
    monkeypatch.setattr(client_module, "_setting", lambda name, default: default)
    client = GraphClient(TOKEN, transport=httpx.MockTransport(Recorder()))
    assert client.base_url == meta.GRAPH_API_DEFAULT_BASE_URL
    assert client.version == meta.GRAPH_API_DEFAULT_VERSION
    assert client.timeout.read == meta.GRAPH_API_DEFAULT_TIMEOUT_S


def test_base_url_version_and_timeout_come_from_django_settings():
    from django.test import override_settings

    with override_settings(
        GRAPH_API_BASE_URL="http://sim.test:8001", GRAPH_API_VERSION="v99.0", GRAPH_API_TIMEOUT_S=3
    ):
        recorder = Recorder()
        client = GraphClient(TOKEN, transport=httpx.MockTransport(recorder))
        client.publish_flow("f1")
    assert str(recorder.last.url) == "http://sim.test:8001/v99.0/f1/publish"
    assert client.timeout.read == 3

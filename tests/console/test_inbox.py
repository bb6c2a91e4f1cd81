"""The console inbox: the list, a thread of every message type, replies through the send pipeline,
live updates, the agent's actions, and the outsider (another tenant's ids and sessions)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

import sending.limiter as limiter_module
from automations.models import HumanHandoff
from messaging.models import Conversation, Message, MessageMedia
from tests.conftest import host_of
from tests.console.conftest import console_client
from tests.factories import ContactFactory, ConversationFactory, MessageFactory, TemplateFactory
from tests.sending.factories import simulator_seed_for
from tests.sending.helpers import drain, graph_sends


@pytest.fixture(autouse=True)
def _fresh_limiter(monkeypatch):
    """The PostgreSQL limiter's state rolls back with each test."""
    monkeypatch.setattr(limiter_module, "_limiter", None)


def _csrf(client, path):
    page = client.get(path)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def _post(client, path, data, page=None):
    token = _csrf(client, page or path.rsplit("/", 2)[0] + "/")
    return client.post(path, {**data, "csrfmiddlewaretoken": token})


def _ago(**delta):
    return timezone.now() - timedelta(**delta)


@pytest.fixture
def chat_a(tenant_a, in_tenant, number_a):
    """A customer of alpha who wrote an hour ago (window open), with one unread message."""
    with in_tenant(tenant_a):
        conversation = ConversationFactory(
            phone_number=number_a,
            contact=ContactFactory(profile_name="Maria Lopez", wa_id="491511110001"),
            window_open=True,
            last_message_at=_ago(hours=1),
            unread_count=1,
        )
        MessageFactory(conversation=conversation, body="Is my coffee ready?", timestamp=_ago(hours=1))
        return conversation


@pytest.fixture
def chat_b(tenant_b, in_tenant, number_b):
    with in_tenant(tenant_b):
        # ids alpha's rows never reach in a test, so a 404 can only mean the schema kept them apart
        conversation = ConversationFactory(id=987_654, phone_number=number_b, window_open=True)
        message = MessageFactory(
            id=987_655,
            conversation=conversation,
            type="image",
            content={"media_id": "1", "mime_type": "image/jpeg"},
            body="",
        )
        return conversation, message


# --- the list -----------------------------------------------------------------------------------


def test_the_list_puts_unread_first_then_the_most_recent(tenant_a, in_tenant, number_a, console_a):
    with in_tenant(tenant_a):
        old_unread = ConversationFactory(
            phone_number=number_a,
            contact=ContactFactory(profile_name="Old unread"),
            last_message_at=_ago(days=3),
            unread_count=2,
        )
        recent = ConversationFactory(
            phone_number=number_a,
            contact=ContactFactory(profile_name="Recent read"),
            last_message_at=_ago(minutes=5),
        )
        older = ConversationFactory(
            phone_number=number_a,
            contact=ContactFactory(profile_name="Older read"),
            last_message_at=_ago(days=1),
        )
        MessageFactory(conversation=recent, direction=Message.Direction.OUTBOUND, body="See you soon")
    html = console_a.get("/app/inbox/").content.decode()
    positions = [html.index(name) for name in ("Old unread", "Recent read", "Older read")]
    assert positions == sorted(positions)
    assert "You: </span>See you soon" in html
    assert re.search(r'class="inbox-unread"[^>]*>2<', html)
    assert f"/app/inbox/{old_unread.pk}/" in html and f"/app/inbox/{older.pk}/" in html


def test_the_list_pages_with_a_cursor(tenant_a, in_tenant, number_a, console_a):
    with in_tenant(tenant_a):
        for n in range(32):
            ConversationFactory(
                phone_number=number_a,
                contact=ContactFactory(profile_name=f"Pager {n:02d}"),
                last_message_at=_ago(minutes=n),
            )
    first = console_a.get("/app/inbox/").content.decode()
    assert "Pager 00" in first and "Pager 29" in first and "Pager 30" not in first
    next_link = (
        re.search(r'href="/app/inbox/\?([^"]+)">Older conversations', first).group(1).replace("&amp;", "&")
    )
    second = console_a.get("/app/inbox/", parse_qs(next_link)).content.decode()
    assert "Pager 30" in second and "Pager 31" in second and "Pager 29" not in second
    assert console_a.get("/app/inbox/?cursor=nonsense").status_code == 200


def test_search_by_name_or_number(tenant_a, in_tenant, number_a, console_a):
    with in_tenant(tenant_a):
        ConversationFactory(
            phone_number=number_a, contact=ContactFactory(profile_name="Joana Silva", wa_id="351912345678")
        )
        ConversationFactory(
            phone_number=number_a, contact=ContactFactory(profile_name="Pedro Costa", wa_id="351934444444")
        )
    by_name = console_a.get("/app/inbox/", {"q": "joana"}).content.decode()
    assert "Joana Silva" in by_name and "Pedro Costa" not in by_name
    by_number = console_a.get("/app/inbox/", {"q": "+351 93 444"}).content.decode()
    assert "Pedro Costa" in by_number and "Joana Silva" not in by_number
    assert "No conversation matches." in console_a.get("/app/inbox/", {"q": "nobody"}).content.decode()


def test_filters_unread_handed_off_assigned_to_me_and_window_open(
    tenant_a, in_tenant, number_a, user_a, console_a
):
    with in_tenant(tenant_a):
        unread = ConversationFactory(
            phone_number=number_a,
            contact=ContactFactory(profile_name="Unread Una"),
            unread_count=1,
            last_message_at=_ago(days=2),
        )
        handed = ConversationFactory(
            phone_number=number_a,
            contact=ContactFactory(profile_name="Handed Hugo"),
            last_message_at=_ago(days=2),
        )
        HumanHandoff.objects.create(contact=handed.contact, phone_number=number_a, opened_by="contact")
        ConversationFactory(
            phone_number=number_a,
            contact=ContactFactory(profile_name="Mine Mia"),
            assigned_to=user_a,
            last_message_at=_ago(days=2),
        )
        ConversationFactory(
            phone_number=number_a,
            contact=ContactFactory(profile_name="Window Wim"),
            window_open=True,
            last_message_at=_ago(days=2),
        )
    names = {"Unread Una", "Handed Hugo", "Mine Mia", "Window Wim"}
    for key, expected in (
        ("unread", "Unread Una"),
        ("handoff", "Handed Hugo"),
        ("mine", "Mine Mia"),
        ("window", "Window Wim"),
    ):
        html = console_a.get("/app/inbox/", {"filter": key}).content.decode()
        assert [name for name in sorted(names) if name in html] == [expected], key
    all_html = console_a.get("/app/inbox/").content.decode()
    assert all(name in all_html for name in names)
    assert ">Person</span>" in all_html and unread.unread_count == 1


def test_the_list_partial_polls_without_the_page(chat_a, console_a):
    response = console_a.get("/app/inbox/list/", {"filter": "all", "current": chat_a.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "Maria Lopez" in html and 'hx-trigger="every 2s' in html
    assert 'aria-current="page"' in html


# --- the thread ---------------------------------------------------------------------------------


def test_the_thread_renders_every_message_type(tenant_a, in_tenant, chat_a, console_a):
    with in_tenant(tenant_a):
        quoted = MessageFactory(conversation=chat_a, body="Original question", wamid="wamid.quoted")
        kinds = [
            dict(
                type="text",
                body="Look <b>here</b> https://example.com/menu",
                content={"body": "Look <b>here</b> https://example.com/menu"},
                context_wamid="wamid.quoted",
            ),
            dict(
                type="image",
                body="A cake",
                content={"media_id": "m1", "mime_type": "image/jpeg", "caption": "A cake"},
            ),
            dict(type="video", body="", content={"media_id": "m2", "mime_type": "video/mp4"}),
            dict(type="audio", body="", content={"media_id": "m3", "mime_type": "audio/ogg", "voice": True}),
            dict(type="document", body="invoice.pdf", content={"media_id": "m4", "filename": "invoice.pdf"}),
            dict(type="sticker", body="", content={"media_id": "m5", "mime_type": "image/webp"}),
            dict(
                type="location",
                body="Café Central Herrengasse 14",
                content={
                    "latitude": 48.21,
                    "longitude": 16.36,
                    "name": "Café Central",
                    "address": "Herrengasse 14",
                },
            ),
            dict(
                type="contacts",
                body="Ana Paula",
                content={
                    "contacts": [
                        {
                            "name": {"formatted_name": "Ana Paula"},
                            "phones": [{"phone": "+55 11 91234-5678", "type": "CELL"}],
                        }
                    ]
                },
            ),
            dict(
                type="interactive",
                body="Large",
                content={"kind": "button_reply", "id": "size_l", "title": "Large"},
            ),
            dict(
                type="interactive",
                body="Oat milk",
                content={"kind": "list_reply", "id": "oat", "title": "Oat milk", "description": "No lactose"},
            ),
            dict(
                type="interactive",
                body="",
                content={
                    "kind": "nfm_reply",
                    "name": "flow",
                    "response": {"flow_token": "secret-token", "party_size": "4", "date": "2026-12-24"},
                },
            ),
            dict(type="button", body="Yes, confirm", content={"payload": "CONFIRM", "text": "Yes, confirm"}),
            dict(type="reaction", body="👍", content={"message_id": "wamid.quoted", "emoji": "👍"}),
            dict(
                type="unsupported",
                body="",
                content={
                    "original_type": "poll",
                    "errors": [
                        {
                            "code": 131051,
                            "title": "Message type unknown",
                            "error_data": {"details": "Message type is currently not supported."},
                        }
                    ],
                },
            ),
        ]
        for n, kind in enumerate(kinds):
            MessageFactory(conversation=chat_a, timestamp=_ago(minutes=50 - n), **kind)
        template = TemplateFactory(account=chat_a.phone_number.account, name="order_ready")
        MessageFactory(
            conversation=chat_a,
            direction=Message.Direction.OUTBOUND,
            type="template",
            template=template,
            status=Message.Status.READ,
            body="Hello Maria, your order 42 is on its way.",
            content={"name": "order_ready", "language": {"code": "en_US"}},
            timestamp=_ago(minutes=10),
        )
        MessageFactory(
            conversation=chat_a,
            direction=Message.Direction.OUTBOUND,
            body="Delivered one",
            status=Message.Status.DELIVERED,
            timestamp=_ago(minutes=9),
        )
        MessageFactory(
            conversation=chat_a,
            direction=Message.Direction.OUTBOUND,
            body="Sent one",
            status=Message.Status.SENT,
            timestamp=_ago(minutes=8),
        )
        MessageFactory(
            conversation=chat_a,
            direction=Message.Direction.OUTBOUND,
            body="Failed one",
            status=Message.Status.FAILED,
            error_code=131026,
            error_title="Message undeliverable",
            error_details="The recipient is not on WhatsApp.",
            timestamp=_ago(minutes=7),
        )
        image = Message.objects.get(conversation=chat_a, type="image")
    html = console_a.get(f"/app/inbox/{chat_a.pk}/").content.decode()

    assert (
        'Look &lt;b&gt;here&lt;/b&gt; <a href="https://example.com/menu" rel="nofollow">https://example.com/menu</a>'
        in html
    )
    assert '<blockquote class="msg-quote">Original question</blockquote>' in html
    assert f'src="/app/inbox/{chat_a.pk}/media/{image.pk}/"' in html and 'alt="A cake"' in html
    assert "<video" in html and "Voice message" in html and "<audio" in html
    assert ">invoice.pdf</a>" in html and "Sticker" in html
    assert "Café Central" in html and "mlat=48.21&amp;mlon=16.36" in html
    assert "Ana Paula" in html and "+55 11 91234-5678" in html
    assert "Tapped a button" in html and ">Large<" in html
    assert "Chose from the list" in html and "Oat milk" in html and "No lactose" in html
    assert "Form answered" in html and "<dt>party_size</dt><dd>4</dd>" in html and "secret-token" not in html
    assert "Yes, confirm" in html
    assert "👍</span> reacted to" in html and "“Original question”" in html
    assert "Message type not supported (poll)" in html
    assert "Message type unknown (131051): Message type is currently not supported." in html
    assert "Template order_ready (en_US)" in html and "Hello Maria, your order 42 is on its way." in html
    assert 'class="tick tick-read" title="Read"' in html
    assert 'title="Delivered">✓✓' in html and 'title="Sent">✓<' in html
    assert "Message undeliverable (131026): The recipient is not on WhatsApp." in html
    assert html.index("Original question") < html.index("Failed one")  # oldest first
    assert quoted.pk


def test_the_thread_shows_the_newest_page_and_links_to_earlier_messages(
    tenant_a, in_tenant, chat_a, console_a
):
    with in_tenant(tenant_a):
        for n in range(55):
            MessageFactory(conversation=chat_a, body=f"Line {n:02d}.", timestamp=_ago(minutes=55 - n))
    html = console_a.get(f"/app/inbox/{chat_a.pk}/").content.decode()
    assert "Line 54." in html and "Line 05." in html and "Line 04." not in html
    earlier = re.search(r'href="\?(before=[^"]+)">Earlier messages', html).group(1)
    older = console_a.get(f"/app/inbox/{chat_a.pk}/?{earlier}").content.decode()
    older = older[older.index('id="thread-messages"') :]
    assert "Line 04." in older and "Is my coffee ready?" in older and "Line 54." not in older


def test_media_of_this_conversation_is_streamed_to_its_console_user(
    tenant_a, in_tenant, chat_a, console_a, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    with in_tenant(tenant_a):
        image = MessageFactory(
            conversation=chat_a, type="image", content={"media_id": "9", "mime_type": "image/png"}
        )
        MessageMedia.objects.create(
            message=image, state="stored", mime_type="image/png", size=4, sha256="0" * 64,
            file=ContentFile(b"\x89PNG", name="image.png"),
        )
    response = console_a.get(f"/app/inbox/{chat_a.pk}/media/{image.pk}/")
    assert response.status_code == 200
    assert response.content == b"\x89PNG" and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    with in_tenant(tenant_a):
        elsewhere = ConversationFactory(phone_number=chat_a.phone_number)
    assert console_a.get(f"/app/inbox/{elsewhere.pk}/media/{image.pk}/").status_code == 404


# --- replies ------------------------------------------------------------------------------------


def test_a_reply_inside_the_window_goes_out_through_the_send_pipeline(
    graph_simulator, tenant_a, in_tenant, chat_a, console_a
):
    simulator_seed_for(graph_simulator, chat_a.phone_number)
    response = _post(
        console_a, f"/app/inbox/{chat_a.pk}/reply/", {"kind": "text", "text": "Yes, ready in 5 minutes"}
    )
    assert response.status_code == 302 and response.url == f"/app/inbox/{chat_a.pk}/"
    with in_tenant(tenant_a):
        queued = Message.objects.get(conversation=chat_a, direction=Message.Direction.OUTBOUND)
    assert queued.type == "text" and queued.status == Message.Status.QUEUED
    assert queued.content == {"body": "Yes, ready in 5 minutes", "preview_url": False}

    drain(tenant_a)

    [request] = graph_sends(graph_simulator, chat_a.phone_number)
    assert request["status"] == 200
    assert request["body"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "491511110001",
        "type": "text",
        "text": {"body": "Yes, ready in 5 minutes", "preview_url": False},
        "biz_opaque_callback_data": str(queued.pk),
    }
    html = console_a.get(f"/app/inbox/{chat_a.pk}/").content.decode()
    assert "Message queued for sending." in html and 'title="Sent">✓<' in html


def test_a_media_reply_by_link(tenant_a, in_tenant, chat_a, console_a):
    _post(
        console_a,
        f"/app/inbox/{chat_a.pk}/reply/",
        {
            "kind": "media",
            "media_type": "image",
            "media_ref": "https://cdn.example.com/menu.jpg",
            "caption": "Menu",
        },
    )
    with in_tenant(tenant_a):
        queued = Message.objects.get(conversation=chat_a, direction=Message.Direction.OUTBOUND)
    assert queued.type == "image" and queued.content == {
        "link": "https://cdn.example.com/menu.jpg",
        "caption": "Menu",
    }


def test_an_error_from_the_send_service_is_shown_and_the_text_kept(tenant_a, in_tenant, chat_a, console_a):
    too_long = "x" * 4097
    response = _post(console_a, f"/app/inbox/{chat_a.pk}/reply/", {"kind": "text", "text": too_long})
    html = response.content.decode()
    assert response.status_code == 422
    assert "text.body: at most 4096 characters allowed, got 4097" in html
    assert f">{too_long}</textarea>" in html
    with in_tenant(tenant_a):
        assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_an_htmx_reply_swaps_only_the_reply_box(chat_a, console_a):
    token = _csrf(console_a, f"/app/inbox/{chat_a.pk}/")
    failed = console_a.post(
        f"/app/inbox/{chat_a.pk}/reply/",
        {"kind": "text", "text": "  ", "csrfmiddlewaretoken": token},
        HTTP_HX_REQUEST="true",
    )
    assert failed.status_code == 200 and "Type a message to send." in failed.content.decode()
    assert "<html" not in failed.content.decode()
    sent = console_a.post(
        f"/app/inbox/{chat_a.pk}/reply/",
        {"kind": "text", "text": "On it", "csrfmiddlewaretoken": token},
        HTTP_HX_REQUEST="true",
    )
    assert sent.status_code == 200 and sent["HX-Trigger"] == "inbox-refresh"
    assert "Queued for sending." in sent.content.decode()


def test_outside_the_window_only_a_template_can_be_sent(tenant_a, in_tenant, number_a, console_a):
    with in_tenant(tenant_a):
        closed = ConversationFactory(
            phone_number=number_a,
            contact=ContactFactory(wa_id="491511110002"),
            last_inbound_at=_ago(days=2),
            service_window_expires_at=_ago(days=1),
        )
        template = TemplateFactory(account=number_a.account, name="order_update")
        TemplateFactory(account=number_a.account, name="still_pending", status="PENDING")
    page = console_a.get(
        f"/app/inbox/{closed.pk}/", {"template": template.pk, "body_1": "Ada"}
    ).content.decode()
    assert "only an approved template can be sent" in page
    assert 'name="text"' not in page
    assert "order_update (en_US, utility)" in page and "still_pending" not in page
    assert 'for="tpl-body_1">Body {{1}}' in page and 'for="tpl-body_2">Body {{2}}' in page
    assert "Hello Ada, your order {{2}} is on its way." in page  # the preview

    refused = _post(
        console_a,
        f"/app/inbox/{closed.pk}/reply/",
        {"kind": "text", "text": "Hi"},
        page=f"/app/inbox/{closed.pk}/",
    )
    assert refused.status_code == 422
    assert "+491511110002 has not written to this number in the last 24 hours" in refused.content.decode()
    assert (
        "Choose a template to send."
        in _post(
            console_a, f"/app/inbox/{closed.pk}/reply/", {"kind": "template"}, page=f"/app/inbox/{closed.pk}/"
        ).content.decode()
    )

    response = _post(
        console_a,
        f"/app/inbox/{closed.pk}/reply/",
        {"kind": "template", "template": template.pk, "body_1": "Ada", "body_2": "A-17"},
    )
    assert response.status_code == 302
    with in_tenant(tenant_a):
        queued = Message.objects.get(conversation=closed, direction=Message.Direction.OUTBOUND)
    assert queued.type == "template" and queued.template_id == template.pk
    assert queued.body == "Hello Ada, your order A-17 is on its way."
    assert queued.request_payload["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "A-17"}],
            }
        ],
    }


def test_the_template_partial_renders_fields_and_preview(tenant_a, in_tenant, chat_a, console_a):
    with in_tenant(tenant_a):
        template = TemplateFactory(account=chat_a.phone_number.account)
    html = console_a.get(
        f"/app/inbox/{chat_a.pk}/template/", {"template": template.pk, "body_2": "9"}
    ).content.decode()
    assert "<html" not in html and "Hello {{1}}, your order 9 is on its way." in html


# --- live updates -------------------------------------------------------------------------------


def test_the_poll_returns_new_messages_and_changed_ticks_only(tenant_a, in_tenant, chat_a, console_a):
    with in_tenant(tenant_a):
        outbound = MessageFactory(
            conversation=chat_a,
            direction=Message.Direction.OUTBOUND,
            body="We open at 8",
            status=Message.Status.SENT,
        )
    page = console_a.get(f"/app/inbox/{chat_a.pk}/").content.decode()
    poll_url = re.search(r'hx-get="(/app/inbox/\d+/updates/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert console_a.get(poll_url).status_code == 204

    with in_tenant(tenant_a):
        Message.objects.filter(pk=outbound.pk).update(status=Message.Status.READ, updated_at=timezone.now())
        new = MessageFactory(conversation=chat_a, body="Thanks!")
    response = console_a.get(poll_url)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="msg-{new.pk}"' in html and "Thanks!" in html
    assert 'hx-swap-oob="beforeend:#thread-messages"' in html
    assert f'<li id="msg-{outbound.pk}" class="msg msg-out msg-type-text" hx-swap-oob="true">' in html
    assert 'class="tick tick-read"' in html
    assert "Is my coffee ready?" not in html  # unchanged messages stay out
    next_poll = re.search(r'hx-get="(/app/inbox/\d+/updates/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert console_a.get(next_poll).status_code == 204


# --- the agent's actions ------------------------------------------------------------------------


def test_take_over_and_hand_back(tenant_a, in_tenant, chat_a, console_a):
    response = _post(console_a, f"/app/inbox/{chat_a.pk}/handoff/", {"action": "open"})
    assert response.status_code == 302
    with in_tenant(tenant_a):
        handoff = HumanHandoff.objects.get(contact=chat_a.contact, phone_number=chat_a.phone_number)
    assert handoff.closed_at is None and handoff.opened_by == "business" and "ana" in handoff.reason
    page = console_a.get(f"/app/inbox/{chat_a.pk}/").content.decode()
    assert "Hand back to the bot" in page and "Handed to a person" in page

    again = _post(console_a, f"/app/inbox/{chat_a.pk}/handoff/", {"action": "open"})
    assert "already handed to a person" in console_a.get(again.url).content.decode()

    _post(console_a, f"/app/inbox/{chat_a.pk}/handoff/", {"action": "close"})
    with in_tenant(tenant_a):
        handoff.refresh_from_db()
    assert handoff.closed_at is not None and handoff.closed_by == "ana"
    assert "Take over from the bot" in console_a.get(f"/app/inbox/{chat_a.pk}/").content.decode()


def test_an_htmx_take_over_swaps_the_thread_head(chat_a, console_a):
    token = _csrf(console_a, f"/app/inbox/{chat_a.pk}/")
    response = console_a.post(
        f"/app/inbox/{chat_a.pk}/handoff/",
        {"action": "open", "csrfmiddlewaretoken": token},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith('<header id="thread-head"')
    assert "Hand back to the bot" in html


def test_assign_to_a_user_of_this_workspace(tenant_a, in_tenant, chat_a, user_a, console_a):
    response = _post(console_a, f"/app/inbox/{chat_a.pk}/assign/", {"user": user_a.pk})
    assert response.status_code == 302
    with in_tenant(tenant_a):
        assert Conversation.objects.get(pk=chat_a.pk).assigned_to_id == user_a.pk
    assert "Ana Paula" not in console_a.get("/app/inbox/", {"filter": "mine"}).content.decode()
    assert "Maria Lopez" in console_a.get("/app/inbox/", {"filter": "mine"}).content.decode()
    missing = _post(console_a, f"/app/inbox/{chat_a.pk}/assign/", {"user": user_a.pk + 999})
    assert "No such active user in this workspace." in console_a.get(missing.url).content.decode()
    _post(console_a, f"/app/inbox/{chat_a.pk}/assign/", {"user": ""})
    with in_tenant(tenant_a):
        assert Conversation.objects.get(pk=chat_a.pk).assigned_to_id is None


def test_mark_read_sends_the_read_receipt_to_meta(graph_simulator, tenant_a, in_tenant, chat_a, console_a):
    simulator_seed_for(graph_simulator, chat_a.phone_number)
    with in_tenant(tenant_a):
        newest = MessageFactory(conversation=chat_a, body="Hello?", wamid="wamid.newest-unread")
        Conversation.objects.filter(pk=chat_a.pk).update(unread_count=2)
    response = _post(console_a, f"/app/inbox/{chat_a.pk}/read/", {})
    assert response.status_code == 302
    [request] = graph_sends(graph_simulator, chat_a.phone_number)
    assert request["body"] == {"messaging_product": "whatsapp", "status": "read", "message_id": newest.wamid}
    with in_tenant(tenant_a):
        assert Conversation.objects.get(pk=chat_a.pk).unread_count == 0
        assert not Message.objects.filter(conversation=chat_a, is_read_by_business=False).exists()


# --- the outsider -------------------------------------------------------------------------------


def test_another_tenants_conversation_is_not_found(chat_a, chat_b, console_a):
    other, other_message = chat_b
    token = _csrf(console_a, f"/app/inbox/{chat_a.pk}/")
    for path in (
        f"/app/inbox/{other.pk}/",
        f"/app/inbox/{other.pk}/updates/?after=0",
        f"/app/inbox/{other.pk}/template/",
        f"/app/inbox/{other.pk}/media/{other_message.pk}/",
    ):
        assert console_a.get(path).status_code == 404, path
    for action, data in (
        ("reply", {"kind": "text", "text": "hi"}),
        ("assign", {"user": ""}),
        ("handoff", {"action": "open"}),
        ("read", {}),
    ):
        response = console_a.post(f"/app/inbox/{other.pk}/{action}/", {**data, "csrfmiddlewaretoken": token})
        assert response.status_code == 404, action
    # the same ids resolve in alpha only to alpha's rows: beta's media id under alpha's conversation
    assert console_a.get(f"/app/inbox/{chat_a.pk}/media/{other_message.pk}/").status_code == 404


def test_another_tenants_session_is_sent_to_the_login_page(tenant_a, chat_a, console_b):
    stolen = console_b.cookies["sessionid"].value
    client = console_client(host_of(tenant_a))
    client.cookies["sessionid"] = stolen
    for path in ("/app/inbox/", f"/app/inbox/{chat_a.pk}/", f"/app/inbox/{chat_a.pk}/updates/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url.startswith("/app/login/"), path
    token = _csrf(client, "/app/login/")
    response = client.post(
        f"/app/inbox/{chat_a.pk}/handoff/", {"action": "open", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and response.url.startswith("/app/login/")


def test_posts_without_the_csrf_token_are_refused(tenant_a, in_tenant, chat_a, console_a):
    for action, data in (
        ("reply", {"kind": "text", "text": "hi"}),
        ("assign", {"user": ""}),
        ("handoff", {"action": "open"}),
        ("read", {}),
    ):
        assert console_a.post(f"/app/inbox/{chat_a.pk}/{action}/", data).status_code == 403, action
    with in_tenant(tenant_a):
        assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
        assert not HumanHandoff.objects.exists()

"""Embedded Signup: a stand-in for Facebook's signup window, and the code exchange behind it.

`GET /_signup/dialog?client_id=&origin=&config_id=` is the page Facebook's JavaScript SDK would
open: the business picks one of the simulator's WABAs and numbers, or creates a new WABA with a
number. Finishing it mints a code (single use, `signup_code_ttl_s` seconds) and posts to
`window.opener`, at `origin` only, what the SDK hands the page that opened it: the session-info
message (`{"type": "WA_EMBEDDED_SIGNUP", "event": "FINISH", "data": {phone_number_id, waba_id,
business_id}}`) and the login response (`{"type": "SIMULATOR_FB_LOGIN", "response":
{"authResponse": {"code", ...}, "status": "connected"}}`, what `FB.login`'s callback receives).

`GET /oauth/access_token?client_id=&client_secret=&code=` trades the code for a business token
that sees the shared WABA, answering Meta's OAuth errors for a wrong secret or a used, expired or
unknown code.

Finishing the window also sends the app (its webhook URL, signed with its secret) the
`account_update` webhook with event `PARTNER_ADDED` about the shared WABA, as Meta does: the app
hears of the share whether or not it is subscribed to the WABA yet.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from typing import TYPE_CHECKING, Any

from graph_simulator import ids
from graph_simulator.errors import GraphError
from graph_simulator.events import partner_added_value
from graph_simulator.models import PhoneNumber, SignupGrant, Token, Waba
from graph_simulator.state import WebhookTarget
from graph_simulator.transport import Request, Response
from graph_simulator.webhooks import WebhookEvent

if TYPE_CHECKING:
    from graph_simulator.server import Simulator

SESSION_INFO_VERSION = "3"
LOGIN_MESSAGE_TYPE = "SIMULATOR_FB_LOGIN"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$")
_NEW = "new"


# --- the code exchange -----------------------------------------------------------------------------


def _oauth_error(code: int, message: str, subcode: int | None = None) -> GraphError:
    return GraphError(code, message=message, subcode=subcode, error_type="OAuthException", status=400)


def oauth_dispatch(sim: Simulator, request: Request, rest: list[str]) -> Response:
    if rest != ["access_token"] or request.method != "GET":
        raise _oauth_error(100, "Unsupported request: only GET /oauth/access_token is simulated.")
    return oauth_access_token(sim, request)


def oauth_access_token(sim: Simulator, request: Request) -> Response:
    """Redeem an Embedded Signup code: the app's id and secret, the code once, before it expires."""
    params = request.query
    for name in ("client_id", "client_secret", "code"):
        if not params.get(name):
            raise _oauth_error(101 if name == "client_id" else 100, f"Missing {name} parameter.")
    now = time.time()
    with sim.state.lock:
        app = sim.state.apps.get(params["client_id"])
        if app is None:
            raise _oauth_error(101, "Error validating application. Invalid application ID.")
        if not app.app_secret or not secrets.compare_digest(app.app_secret, params["client_secret"]):
            raise _oauth_error(1, "Error validating client secret.")
        grant = sim.state.signup_grants.get(params["code"])
        if grant is None:
            raise _oauth_error(100, "Invalid verification code format.")
        if grant.app_id != app.app_id:
            raise _oauth_error(100, "Error validating verification code.", subcode=36008)
        if grant.redeemed:
            raise _oauth_error(100, "This authorization code has been used.", subcode=36009)
        if grant.expires_at <= now:
            raise _oauth_error(100, "This authorization code has expired.", subcode=36007)
        grant.redeemed = True
        token = Token(token="EAAG" + secrets.token_urlsafe(40), app_id=app.app_id, waba_ids={grant.waba_id})
        sim.state.tokens[token.token] = token
    return Response.json({"access_token": token.token, "token_type": "bearer"})


def signup_grant(
    sim: Simulator,
    *,
    app_id: str,
    waba_id: str | None = None,
    phone_number_id: str | None = None,
    business_name: str | None = None,
    display_phone_number: str | None = None,
) -> dict[str, Any]:
    """Finish a signup: an existing WABA and number, or a new WABA (and business) with a new number
    waiting for registration. Returns the code and the session-info data. Raises ValueError."""
    with sim.state.lock:
        if app_id not in sim.state.apps:
            raise ValueError(f"No app {app_id} in the simulator: seed it (with its app_secret) first.")
        if waba_id is None:
            name = (business_name or "").strip()
            digits = re.sub(r"\D", "", display_phone_number or "")
            if not name or not 8 <= len(digits) <= 15:
                raise ValueError("A new account needs a business name and a phone number (8 to 15 digits).")
            if any(phone.digits == digits for phone in sim.state.phones.values()):
                raise ValueError(f"The number {display_phone_number} is already on WhatsApp Business here.")
            waba = Waba(id=ids.new_graph_id(), name=name, business_id=ids.new_graph_id(), app_id=app_id)
            sim.state.wabas[waba.id] = waba
            phone = PhoneNumber(
                id=ids.new_graph_id(),
                waba_id=waba.id,
                display_phone_number=(display_phone_number or "").strip(),
                verified_name=name,
                quality_rating="UNKNOWN",
                status="PENDING",
                messaging_limit_tier="TIER_250",
            )
            sim.state.phones[phone.id] = phone
        else:
            chosen = sim.state.wabas.get(waba_id)
            if chosen is None:
                raise ValueError(f"No WABA {waba_id} in the simulator.")
            waba = chosen
            found = sim.state.phones.get(phone_number_id or "")
            if found is None or found.waba_id != waba.id:
                raise ValueError(f"No number {phone_number_id} in WABA {waba_id}.")
            phone = found
        grant = SignupGrant(
            code="AQ" + secrets.token_urlsafe(48),
            app_id=app_id,
            waba_id=waba.id,
            phone_number_id=phone.id,
            business_id=waba.business_id,
            expires_at=time.time() + sim.state.config.signup_code_ttl_s,
        )
        sim.state.signup_grants[grant.code] = grant
        app = sim.state.apps[app_id]
        partner_url = app.webhook_url or sim.state.default_webhook_url_for(app_id)
        partner_added = WebhookEvent(
            waba_id=waba.id,
            field="account_update",
            value=partner_added_value(waba_id=waba.id, owner_business_id=waba.business_id or ""),
        )
    sim.state_changed()
    targets = [WebhookTarget(partner_url, app.app_secret or sim.state.default_app_secret)] if partner_url else []
    sim.webhooks.submit(targets, partner_added)
    return {
        "code": grant.code,
        "waba_id": grant.waba_id,
        "phone_number_id": grant.phone_number_id,
        "business_id": grant.business_id,
    }


# --- the stand-in for Facebook's window --------------------------------------------------------------


def signup_dialog(sim: Simulator, request: Request, rest: list[str]) -> Response:
    if rest != ["dialog"] or request.method not in ("GET", "POST"):
        return _page("Not found", "<p>The signup window lives at /_signup/dialog.</p>", status=404)
    params = request.params()
    app_id = str(params.get("client_id") or "")
    origin = str(params.get("origin") or "")
    if not _ORIGIN.match(origin):
        return _page("Cannot open", "<p>The page that opened this window did not say its origin.</p>", status=400)
    if request.method == "GET":
        return _picker(sim, app_id=app_id, origin=origin, config_id=str(params.get("config_id") or ""))
    choice = str(params.get("account") or "")
    try:
        if choice == _NEW:
            result = signup_grant(
                sim,
                app_id=app_id,
                business_name=str(params.get("business_name") or ""),
                display_phone_number=str(params.get("display_phone_number") or ""),
            )
        else:
            waba_id, _, phone_id = choice.partition(":")
            result = signup_grant(sim, app_id=app_id, waba_id=waba_id or None, phone_number_id=phone_id)
    except ValueError as error:
        return _picker(sim, app_id=app_id, origin=origin, config_id=str(params.get("config_id") or ""), error=str(error))
    session_info = {
        "type": "WA_EMBEDDED_SIGNUP",
        "event": "FINISH",
        "data": {key: result[key] for key in ("phone_number_id", "waba_id", "business_id")},
        "version": SESSION_INFO_VERSION,
    }
    login = {
        "type": LOGIN_MESSAGE_TYPE,
        "response": {
            "authResponse": {"code": result["code"], "userID": "1000000000001", "expiresIn": 0},
            "status": "connected",
        },
    }
    body = f"""
<h1>All set</h1>
<p>WhatsApp Business Account <b>{html.escape(result["waba_id"])}</b> and number <b>{html.escape(str(result["phone_number_id"]))}</b>
are shared with the app. This window closes by itself.</p>
{_json_script("signup-result", {"origin": origin, "messages": [session_info, login]})}
<script>
(function () {{
  var result = JSON.parse(document.getElementById("signup-result").textContent);
  if (window.opener) {{
    result.messages.forEach(function (message) {{ window.opener.postMessage(JSON.stringify(message), result.origin); }});
    window.close();
  }}
}})();
</script>"""
    return _page("Connected", body)


def _picker(sim: Simulator, *, app_id: str, origin: str, config_id: str, error: str = "") -> Response:
    with sim.state.lock:
        app = sim.state.apps.get(app_id)
        wabas = sorted(sim.state.wabas.values(), key=lambda waba: waba.name)
        numbers = {
            waba.id: sorted((p for p in sim.state.phones.values() if p.waba_id == waba.id), key=lambda p: p.id)
            for waba in wabas
        }
    if app is None:
        return _page(
            "Unknown app",
            f"<p>The simulator knows no app <code>{html.escape(app_id)}</code>. Seed it with its app secret "
            "(<code>POST /_sim/seed</code>, <code>apps</code>) and try again.</p>",
            status=404,
        )
    options = []
    for waba in wabas:
        for phone in numbers[waba.id]:
            value = html.escape(f"{waba.id}:{phone.id}")
            options.append(
                f'<label class="option"><input type="radio" name="account" value="{value}" required> '
                f"<span><b>{html.escape(waba.name)}</b> · {html.escape(phone.display_phone_number)}"
                f'<small>WABA {html.escape(waba.id)} · number {html.escape(phone.id)} · {html.escape(phone.status)}</small></span></label>'
            )
    error_html = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    cancel = {
        "origin": origin,
        "messages": [
            {"type": "WA_EMBEDDED_SIGNUP", "event": "CANCEL", "data": {"current_step": "WABA_PICKER"},
             "version": SESSION_INFO_VERSION},
            {"type": LOGIN_MESSAGE_TYPE, "response": {"authResponse": None, "status": "unknown"}},
        ],
    }
    body = f"""
<p class="banner">Graph API simulator · stands in for Facebook's Embedded Signup window</p>
<h1>Connect WhatsApp to {html.escape(app.name)}</h1>
<p class="muted">{html.escape(app.name)} asks to manage and message from one WhatsApp Business Account.
Configuration {html.escape(config_id or "(none)")}.</p>
{error_html}
<form method="post" action="/_signup/dialog">
  <input type="hidden" name="client_id" value="{html.escape(app_id)}">
  <input type="hidden" name="origin" value="{html.escape(origin)}">
  <input type="hidden" name="config_id" value="{html.escape(config_id)}">
  <fieldset>
    <legend>Choose a WhatsApp Business Account and number</legend>
    {"".join(options) or '<p class="muted">No account yet: create one below.</p>'}
    <label class="option"><input type="radio" name="account" value="{_NEW}" required{" checked" if not options else ""}>
      <span><b>Create a new WhatsApp Business Account</b></span></label>
    <div class="new">
      <label>Business name <input type="text" name="business_name" maxlength="100" placeholder="e.g. Bean &amp; Leaf"></label>
      <label>Phone number <input type="tel" name="display_phone_number" maxlength="24" placeholder="+1 555 010 0999"></label>
    </div>
  </fieldset>
  <div class="actions">
    <button type="submit" class="primary">Finish</button>
    <button type="button" id="cancel">Cancel</button>
  </div>
</form>
{_json_script("signup-cancel", cancel)}
<script>
document.getElementById("cancel").addEventListener("click", function () {{
  var result = JSON.parse(document.getElementById("signup-cancel").textContent);
  if (window.opener) {{
    result.messages.forEach(function (message) {{ window.opener.postMessage(JSON.stringify(message), result.origin); }});
  }}
  window.close();
}});
</script>"""
    return _page("Connect WhatsApp", body)


def _json_script(element_id: str, data: Any) -> str:
    text = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; padding: 20px 24px; color: #1c1e21; background: #f0f2f5; }
h1 { font-size: 20px; margin: 8px 0; }
.banner { background: #1877f2; color: #fff; padding: 6px 10px; border-radius: 6px; font-size: 13px; margin: 0 0 8px; }
.muted, small { color: #65676b; }
small { display: block; font-size: 12px; }
.error { background: #ffebe9; color: #a4000f; padding: 8px 10px; border-radius: 6px; }
fieldset { border: 1px solid #dddfe2; border-radius: 8px; background: #fff; padding: 12px; }
legend { font-weight: 600; padding: 0 4px; }
.option { display: flex; gap: 8px; align-items: flex-start; padding: 6px 0; cursor: pointer; }
.new { display: grid; gap: 8px; margin: 4px 0 0 24px; }
.new input { display: block; width: 100%; max-width: 320px; padding: 6px 8px; margin-top: 2px;
  border: 1px solid #ccd0d5; border-radius: 6px; font: inherit; }
.actions { display: flex; gap: 8px; margin-top: 14px; }
button { font: inherit; padding: 8px 16px; border-radius: 6px; border: 1px solid #ccd0d5; background: #e4e6eb; cursor: pointer; }
button.primary { background: #1877f2; border-color: #1877f2; color: #fff; font-weight: 600; }
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Graph API simulator</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return Response(status, document.encode(), content_type="text/html; charset=utf-8")

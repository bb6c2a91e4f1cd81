/* "Connect with Facebook" on the setup page: Embedded Signup.
 *
 * Facebook's window hands back two things, in either order: the login response (FB.login's
 * callback, with the short-lived `code`) and the session-info message `WA_EMBEDDED_SIGNUP`
 * (the WABA id and phone number id). Once both are here the page posts them to the console, which
 * completes the signup on the server. With data-mode="simulator" the Graph API simulator's stand-in
 * window plays Facebook: it posts the login response as a message too.
 */
(function () {
  "use strict";
  var button = document.getElementById("connect-facebook");
  var form = document.getElementById("embedded-signup-form");
  var statusLine = document.getElementById("embedded-signup-status");
  if (!button || !form) return;

  var mode = button.dataset.mode;
  var facebookOrigins = ["https://www.facebook.com", "https://web.facebook.com"];
  var trustedOrigins = mode === "simulator" ? [new URL(button.dataset.dialogUrl).origin] : facebookOrigins;
  var session = null;
  var code = null;

  function say(text) { statusLine.textContent = text; }

  function submitWhenComplete() {
    if (!session || !code) return;
    form.elements.code.value = code;
    form.elements.waba_id.value = session.waba_id;
    form.elements.phone_number_id.value = session.phone_number_id;
    say("Connecting your WhatsApp number…");
    button.disabled = true;
    form.submit();
  }

  function loginAnswered(response) {
    if (response && response.authResponse && response.authResponse.code) {
      code = response.authResponse.code;
      submitWhenComplete();
    } else if (!session) {
      say("The Facebook window was closed before the end: nothing was connected.");
    }
  }

  window.addEventListener("message", function (event) {
    if (trustedOrigins.indexOf(event.origin) === -1) return;
    var data;
    try { data = typeof event.data === "string" ? JSON.parse(event.data) : event.data; } catch (error) { return; }
    if (!data) return;
    if (data.type === "WA_EMBEDDED_SIGNUP") {
      if (data.event === "FINISH" && data.data && data.data.phone_number_id) {
        session = data.data;
        submitWhenComplete();
      } else if (data.event === "FINISH_ONLY_WABA" || data.event === "FINISH") {
        say("Facebook finished without a phone number. Run it again and add a number, or use the manual setup.");
      } else if (data.event === "CANCEL") {
        say("Cancelled" + (data.data && data.data.current_step ? " at " + data.data.current_step : "") + ": nothing was connected.");
      } else if (data.event === "ERROR") {
        say("Facebook reported an error: " + ((data.data && data.data.error_message) || "unknown") + ".");
      }
    } else if (data.type === "SIMULATOR_FB_LOGIN" && mode === "simulator") {
      loginAnswered(data.response);
    }
  });

  if (mode === "facebook") {
    window.fbAsyncInit = function () {
      window.FB.init({ appId: button.dataset.appId, autoLogAppEvents: true, xfbml: true, version: button.dataset.graphVersion });
    };
    var sdk = document.createElement("script");
    sdk.src = "https://connect.facebook.net/en_US/sdk.js";
    sdk.async = true;
    sdk.defer = true;
    sdk.crossOrigin = "anonymous";
    document.head.appendChild(sdk);
  }

  button.addEventListener("click", function () {
    session = null;
    code = null;
    say("");
    if (mode === "facebook") {
      if (!window.FB) { say("Facebook's login is still loading (or blocked by the browser): try again in a moment."); return; }
      window.FB.login(loginAnswered, {
        config_id: button.dataset.configId,
        response_type: "code",
        override_default_response_type: true,
        extras: { setup: {}, featureType: "", sessionInfoVersion: "3", version: "v4" }
      });
      return;
    }
    var query = new URLSearchParams({
      client_id: button.dataset.appId, config_id: button.dataset.configId, origin: window.location.origin
    });
    var popup = window.open(button.dataset.dialogUrl + "?" + query.toString(), "embedded-signup", "width=640,height=760");
    if (!popup) say("The browser blocked the window: allow pop-ups for this site and try again.");
  });
})();

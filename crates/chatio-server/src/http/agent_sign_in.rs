//! Agent sign-in (protocol file §3.2, H9 as built): `POST /agent/sign-in` exchanges a
//! one-time code (form or JSON `code`) for an agent access token. A sign-in link carries the
//! code in its fragment (so it reaches no server log): `/agent/#code=…` when the agent page
//! is served (the page exchanges it itself), else `/agent/sign-in#code=…`, the page here
//! (`GET /agent/sign-in`, its script `GET /agent/sign-in.js`; scripts from the server only),
//! which shows the token for `chatio agent`. The exchange answers
//! `{access_token, token_type: "Bearer", expires_in, entity_id, license_id}`, or an OAuth
//! error `{error, error_description}` (`invalid_grant` 400, `slow_down` 429: the exchanges
//! share the token endpoint's per-address rate).

use std::net::IpAddr;

use http::{HeaderValue, StatusCode, header};
use hyper::body::Incoming;
use serde_json::json;

use super::token::{params, token_error};
use crate::agents::sign_in::CodeRefusal;
use crate::net::http::{Resp, json_resp, respond};
use crate::state::State;

/// The page: a form for the code (filled from the link's fragment by the script), then the
/// token to copy into `chatio agent` or the agent page's form. No style sheet: the policy
/// allows nothing but the server's script.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Agent sign-in</title>
<script src="/agent/sign-in.js" defer></script>
</head>
<body>
<main>
<h1>Agent sign-in</h1>
<form id="form" method="post" action="/agent/sign-in" autocomplete="off">
<p><label for="code">Sign-in code</label>
<input id="code" name="code" required spellcheck="false" autocapitalize="off" aria-describedby="code-hint"></p>
<p id="code-hint">The code of the one-time link you were given. Opening the link fills it in.</p>
<p><button id="submit" type="submit">Sign in</button></p>
</form>
<p id="result" role="status"></p>
<section id="signed-in" aria-labelledby="signed-in-title" hidden>
<h2 id="signed-in-title">Your access token</h2>
<p><label for="token">Access token (valid 8 hours)</label>
<input id="token" readonly size="44" spellcheck="false" aria-describedby="token-hint"></p>
<p id="token-hint">Give it to <code>chatio agent --token</code> (or <code>CHATIO_AGENT_TOKEN</code>) or paste it
into the agent page's sign-in form. It is a password: do not share it. This page keeps no copy.</p>
</section>
</main>
</body>
</html>
"#;

/// The page's script: reads the code from the fragment (and takes it out of the address
/// bar and history), posts it, shows the answer. The token goes only into the read-only
/// field: never into a URL or storage.
const SCRIPT: &str = r#""use strict";
(function () {
  const form = document.getElementById("form");
  const code = document.getElementById("code");
  const submit = document.getElementById("submit");
  const result = document.getElementById("result");
  const signedIn = document.getElementById("signed-in");
  const token = document.getElementById("token");
  async function signIn(value) {
    submit.disabled = true;
    result.textContent = "Signing in…";
    try {
      const r = await fetch("/agent/sign-in", { method: "POST", body: new URLSearchParams({ code: value }) });
      const answer = await r.json();
      if (!r.ok) {
        result.textContent = "The server refused the sign-in: " + answer.error_description;
        return;
      }
      code.value = "";
      token.value = answer.access_token;
      signedIn.hidden = false;
      result.textContent = "Signed in as " + answer.entity_id + " (license " + answer.license_id + ").";
      token.focus();
      token.select();
    } catch (e) {
      result.textContent = "Could not reach the server: check your connection and try again.";
    } finally {
      submit.disabled = false;
    }
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const value = code.value.trim();
    if (value) { signIn(value); }
  });
  const m = /(?:^#|&)code=([^&]+)/.exec(location.hash);
  if (m) {
    history.replaceState(null, "", location.pathname);
    code.value = decodeURIComponent(m[1]);
    signIn(code.value);
  }
})();
"#;

/// `GET /agent/sign-in`: the page.
pub(crate) fn page() -> Resp {
    let mut r = respond(StatusCode::OK, "text/html; charset=utf-8", PAGE);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /agent/sign-in.js`: the page's script.
pub(crate) fn script() -> Resp {
    let mut r = respond(StatusCode::OK, "text/javascript; charset=utf-8", SCRIPT);
    r.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// `POST /agent/sign-out` (H51): revokes the request's bearer token if the server issued it
/// (a sign-in's): `{"revoked": true}`; a token the server does not know (revoked already,
/// expired): `{"revoked": false}`, 200 as RFC 7009 says; a token of the configuration
/// (`--agent-token`) stays valid: `unsupported_token_type` (400); no bearer token:
/// `invalid_request` (400).
pub(crate) fn sign_out(state: &State, req: &hyper::Request<Incoming>) -> Resp {
    use crate::agents::tokens::Revoked;
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = bearer else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "an `Authorization: Bearer` header is required",
        );
    };
    let revoked = match state.agent_sign_out(token) {
        Ok(Revoked::Issued(_)) => true,
        Ok(Revoked::Unknown) => false,
        Ok(Revoked::Fixed) => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "unsupported_token_type",
                "a token of the server's configuration (--agent-token) stays valid: the operator removes it",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "a revoked agent token could not be deleted from the store");
            return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the sign-out could not be stored");
        }
    };
    let mut r = json_resp(StatusCode::OK, &json!({ "revoked": revoked }));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `POST /agent/sign-in`: a one-time code for an access token.
pub(crate) async fn exchange(state: &State, req: hyper::Request<Incoming>, peer: IpAddr) -> Resp {
    let params = match params(req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(code) = params.get("code").map(|c| c.trim()).filter(|c| !c.is_empty()) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`code` is required");
    };
    if !state.may_issue(peer) {
        return token_error(
            StatusCode::TOO_MANY_REQUESTS,
            "slow_down",
            "too many sign-ins from this address: wait and retry (see `--token-rate`)",
        );
    }
    match state.agent_sign_in(code) {
        Ok(s) => {
            let mut r = json_resp(
                StatusCode::OK,
                &json!({
                    "access_token": s.access_token,
                    "token_type": "Bearer",
                    "expires_in": s.expires_in,
                    "entity_id": s.agent,
                    "license_id": s.license,
                }),
            );
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(refusal @ CodeRefusal::Unstored) => {
            token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", refusal.message())
        }
        Err(refusal) => token_error(StatusCode::BAD_REQUEST, "invalid_grant", refusal.message()),
    }
}

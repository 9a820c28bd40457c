// Signing in to the gateway's pages (the staff console, the public portal):
// the OpenID Connect authorization code flow with PKCE (S256) against the
// provider a page's config.json names ({issuer, client_id, scope,
// redirect_path}; locally the gateway's development issuer).
//
//   var signin = LiaisonSignIn.create({config: "/console/config.json", key: "liaison.console",
//                                      notConfigured: function () { return "…"; }});
//   signin.user()          -> {token, claims} or null (expired: forgotten)
//   signin.begin(back)     -> to the provider; `back` is kept for the return
//   signin.finish(params)  -> {back, done}: `done` resolves once the token is kept,
//                             rejects with an Error saying why not
//   signin.forget()        -> signed out
//   signin.call(method, path, body) -> {ok, status, body}: a JSON call with the token
//
// The access token is kept in sessionStorage only (under `<key>.token`).
"use strict";

(function () {
  function base64url(bytes) {
    var text = "";
    bytes.forEach(function (b) {
      text += String.fromCharCode(b);
    });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString(size) {
    var bytes = new Uint8Array(size);
    crypto.getRandomValues(bytes);
    return base64url(bytes);
  }

  // A JWT's claims, unverified: the API verifies the token, the page only reads it.
  function claimsOf(token) {
    var part = token.split(".")[1] || "";
    var binary = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = Uint8Array.from(binary, function (c) {
      return c.charCodeAt(0);
    });
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  function create(options) {
    var tokenKey = options.key + ".token";
    var loginKey = options.key + ".login";
    var provider = null; // {config, metadata}

    function user() {
      var stored = sessionStorage.getItem(tokenKey);
      if (!stored) return null;
      try {
        var saved = JSON.parse(stored);
        var claims = claimsOf(saved.access_token);
        if (saved.expires_at && Date.now() >= saved.expires_at) {
          sessionStorage.removeItem(tokenKey);
          return null;
        }
        return { token: saved.access_token, claims: claims };
      } catch (error) {
        sessionStorage.removeItem(tokenKey);
        return null;
      }
    }

    function loadProvider() {
      if (provider) return Promise.resolve(provider);
      return fetch(options.config, { headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json();
        })
        .then(function (config) {
          if (!config.issuer) {
            throw new Error(options.notConfigured ? options.notConfigured() : "no sign-in service is configured");
          }
          return fetch(config.issuer + "/.well-known/openid-configuration", {
            headers: { Accept: "application/json" },
          })
            .then(function (response) {
              if (!response.ok) throw new Error("discovery: HTTP " + response.status);
              return response.json();
            })
            .then(function (metadata) {
              provider = { config: config, metadata: metadata };
              return provider;
            });
        });
    }

    function redirectUri(config) {
      return window.location.origin + config.redirect_path;
    }

    function begin(back) {
      return loadProvider().then(function (p) {
        var verifier = randomString(32);
        var state = randomString(16);
        var nonce = randomString(16);
        return crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)).then(function (digest) {
          sessionStorage.setItem(
            loginKey,
            JSON.stringify({ verifier: verifier, state: state, nonce: nonce, back: back || "" })
          );
          var query = new URLSearchParams({
            response_type: "code",
            client_id: p.config.client_id,
            redirect_uri: redirectUri(p.config),
            scope: p.config.scope,
            state: state,
            nonce: nonce,
            code_challenge: base64url(new Uint8Array(digest)),
            code_challenge_method: "S256",
          });
          window.location.assign(p.metadata.authorization_endpoint + "?" + query.toString());
        });
      });
    }

    // Back from the provider with ?code=…&state=… (or ?error=…).
    function finish(params) {
      var pending = JSON.parse(sessionStorage.getItem(loginKey) || "null");
      sessionStorage.removeItem(loginKey);
      var back = (pending && pending.back) || "";
      if (params.get("error")) {
        return { back: back, done: Promise.reject(new Error(params.get("error_description") || params.get("error"))) };
      }
      if (!pending || pending.state !== params.get("state")) {
        return { back: back, done: Promise.reject(new Error("state mismatch")) };
      }
      var done = loadProvider()
        .then(function (p) {
          return fetch(p.metadata.token_endpoint, {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
            body: new URLSearchParams({
              grant_type: "authorization_code",
              code: params.get("code"),
              redirect_uri: redirectUri(p.config),
              client_id: p.config.client_id,
              code_verifier: pending.verifier,
            }).toString(),
          });
        })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok || !body.access_token) {
              throw new Error(body.error_description || body.error || "HTTP " + response.status);
            }
            // The ID token answers this sign-in, not another one replayed.
            if (body.id_token && claimsOf(body.id_token).nonce !== pending.nonce) {
              throw new Error("nonce mismatch");
            }
            var expiresIn = Number(body.expires_in) || 3600;
            sessionStorage.setItem(
              tokenKey,
              JSON.stringify({ access_token: body.access_token, expires_at: Date.now() + expiresIn * 1000 })
            );
          });
        });
      return { back: back, done: done };
    }

    function forget() {
      sessionStorage.removeItem(tokenKey);
      sessionStorage.removeItem(loginKey);
    }

    // A JSON call with the user's token (none when signed out): {ok, status,
    // body}, body null when not JSON. A 401 means the sign-in has lapsed: forgotten.
    function call(method, path, body) {
      var current = user();
      var headers = { Accept: "application/json" };
      if (current) headers.Authorization = "Bearer " + current.token;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      return fetch(path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            if (response.status === 401) forget();
            return { ok: response.ok, status: response.status, body: data };
          });
      });
    }

    return { user: user, begin: begin, finish: finish, forget: forget, call: call };
  }

  window.LiaisonSignIn = { create: create, claimsOf: claimsOf };
})();

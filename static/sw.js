// The member app's service worker. Served as /sw.js (member_app/pwa.py), which writes in the
// release VERSION and the PRECACHE list. No build step.
//
// * The shell (styles, script, icons, manifest, /offline) is pre-cached per release; an old
//   release's cache is deleted when the new worker activates.
// * Pages: network first; offline, the offline page.
// * Vouchers (the list, each voucher, its code image): network first, and a copy kept in a
//   cache named after the member's session ("member-<key>", key from /sw/key, a keyed hash of
//   the session id). Offline, that copy is shown with an "as of {time}" note. Only one member
//   cache ever exists; sign-out (the signed-out landing page) deletes it. In kiosk mode, or
//   signed out, /sw/key answers null and nothing of the member is kept.
// * Languages: the offline page is pre-cached in each language the app offers
//   (/offline?lang=<tag>); the member's pages tell the worker their language (app.js), kept in
//   a tiny cache of its own so it outlives the worker, and the offline page is shown in it
//   (else in the browser's languages, else /offline as the browser asked for it). The "as of"
//   note is in the kept page's own language: its words come with the page
//   (templates/_js_messages.html).
"use strict";

var VERSION = "__VERSION__";
var PRECACHE = ["__PRECACHE__"];
var SHELL = "shell-" + VERSION;
var MEMBER = "member-";
var VOUCHERS = /^\/vouchers(\/\d+(\/code\.svg)?)?$/;
var OFFLINE_IN = "/offline?lang=";
var OFFERED = PRECACHE.filter(function (url) { return url.indexOf(OFFLINE_IN) === 0; })
  .map(function (url) { return decodeURIComponent(url.slice(OFFLINE_IN.length)); });
var PREFS = "prefs"; // not "shell-" nor "member-": neither a release nor a sign-out removes it
var LANGUAGE = "/sw/language"; // the key of the member's language in PREFS (never fetched)
var language = null;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) {
      // Fetched without cookies: the shell is the same for everyone.
      return cache.addAll(PRECACHE.map(function (url) {
        return new Request(url, { credentials: "omit" });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf("shell-") === 0 && key !== SHELL;
      }).map(function (key) { return caches.delete(key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function forgetMembers(except) {
  return caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf(MEMBER) === 0 && key !== except;
    }).map(function (key) { return caches.delete(key); }));
  });
}

// The language of the member's latest page, kept for the offline page.
function rememberLanguage(lang) {
  if (typeof lang !== "string" || !/^[A-Za-z0-9-]{1,35}$/.test(lang) || lang === language) {
    return Promise.resolve();
  }
  language = lang;
  return caches.open(PREFS).then(function (cache) {
    return cache.put(LANGUAGE, new Response(lang, { headers: { "Content-Type": "text/plain" } }));
  }).catch(function () { /* the browser's languages then */ });
}

function rememberedLanguage() {
  if (language) return Promise.resolve(language);
  return caches.open(PREFS).then(function (cache) { return cache.match(LANGUAGE); })
    .then(function (kept) { return kept ? kept.text() : null; })
    .then(function (lang) { language = lang || null; return language; })
    .catch(function () { return null; });
}

// The offered language for a wanted one: the same tag, es-MX served by es, fr by fr-CA.
function offeredFor(wanted) {
  var tag = String(wanted).toLowerCase();
  var base = tag.split("-")[0];
  var lower = OFFERED.map(function (offered) { return offered.toLowerCase(); });
  var at = lower.indexOf(tag);
  if (at < 0) at = lower.indexOf(base);
  if (at < 0) {
    at = lower.findIndex(function (offered) { return offered.split("-")[0] === base; });
  }
  return at < 0 ? null : OFFERED[at];
}

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "forget-member") {
    event.waitUntil(forgetMembers(null));
  }
  if (event.data && event.data.type === "language") {
    event.waitUntil(rememberLanguage(event.data.lang));
  }
});

// Keep a copy of a vouchers response, in this session's cache only.
function keep(path, response) {
  return fetch("/sw/key", { cache: "no-store", credentials: "same-origin" })
    .then(function (answer) { return answer.json(); })
    .then(function (data) {
      if (!data || typeof data.key !== "string") return forgetMembers(null);
      var name = MEMBER + data.key;
      var headers = new Headers(response.headers);
      headers.set("X-Kept-At", String(Date.now()));
      return response.blob().then(function (body) {
        return forgetMembers(name).then(function () { return caches.open(name); })
          .then(function (cache) {
            return cache.put(path, new Response(body, { status: response.status, headers: headers }));
          });
      });
    })
    .catch(function () { /* no copy this time */ });
}

function kept(path) {
  return caches.keys().then(function (keys) {
    var name = keys.filter(function (key) { return key.indexOf(MEMBER) === 0; })[0];
    return name ? caches.open(name).then(function (cache) { return cache.match(path); }) : undefined;
  });
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
}

// The note's words as the kept page carries them (templates/_js_messages.html), else English.
function noteOf(html) {
  var found = /\sdata-words='([^']*)'/.exec(html);
  try {
    var words = found && JSON.parse(found[1]);
    if (words && typeof words.offline_note === "string") return words.offline_note;
  } catch (e) { /* English */ }
  return "You're offline. This is your copy as of {when}.";
}

// The kept page, with a note saying it is a copy and from when, in the page's language.
function asOf(response) {
  var at = new Date(Number(response.headers.get("X-Kept-At")) || Date.now());
  return response.text().then(function (html) {
    var lang = (/<html\b[^>]*\slang="([^"]+)"/.exec(html) || [])[1];
    var style = { dateStyle: "medium", timeStyle: "short" };
    var when;
    try { when = at.toLocaleString(lang, style); } catch (e) { when = at.toLocaleString([], style); }
    var text = noteOf(html).replace(/\{when\}/g, function () { return when; });
    var note = '<p class="notice" role="status" data-offline-note>' + escapeHtml(text) + "</p>";
    return new Response(html.replace(/<main\b[^>]*>/, function (main) { return main + note; }), {
      status: response.status,
      headers: { "Content-Type": "text/html; charset=utf-8" }
    });
  });
}

// The offline page in the member's language: their latest page's, else the browser's first
// offered one, else /offline as pre-cached (the browser's Accept-Language then).
function offlinePage() {
  var options = { ignoreVary: true };
  return rememberedLanguage().then(function (lang) {
    var wanted = (lang ? [lang] : []).concat(self.navigator.languages || []);
    for (var i = 0; i < wanted.length; i++) {
      var tag = offeredFor(wanted[i]);
      if (tag) return caches.match(OFFLINE_IN + encodeURIComponent(tag), options);
    }
    return undefined;
  }).then(function (page) {
    return page || caches.match("/offline", options);
  }).then(function (page) {
    return page || new Response("You're offline.", { status: 503, headers: { "Content-Type": "text/plain" } });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  var navigate = request.mode === "navigate";

  if (navigate && (url.searchParams.get("signed_out") === "1" || url.pathname === "/auth/callback")) {
    // The member signed out, or someone signs in: nothing of an earlier member stays, whether
    // or not the page runs scripts.
    event.respondWith(forgetMembers(null).then(function () {
      return fetch(request).catch(offlinePage);
    }));
    return;
  }

  if (VOUCHERS.test(url.pathname)) {
    event.respondWith(
      fetch(request).then(function (response) {
        // Only the plain page is kept: `?redeemed=1` is a one-time moment with that
        // moment's balance, not the voucher to show offline later.
        if (response.ok && !response.redirected && response.type === "basic" && !url.search) {
          event.waitUntil(keep(url.pathname, response.clone()));
        }
        return response;
      }).catch(function () {
        return kept(url.pathname).then(function (copy) {
          if (copy) return navigate ? asOf(copy) : copy;
          return navigate ? offlinePage() : Response.error();
        });
      })
    );
    return;
  }

  if (navigate) {
    event.respondWith(fetch(request).catch(offlinePage));
    return;
  }

  // The shell: from the pre-cache when there (URLs carry a content hash), else the network.
  event.respondWith(
    caches.open(SHELL).then(function (cache) { return cache.match(request); })
      .then(function (hit) { return hit || fetch(request); })
  );
});

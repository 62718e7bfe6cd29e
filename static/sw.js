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
"use strict";

var VERSION = "__VERSION__";
var PRECACHE = ["__PRECACHE__"];
var SHELL = "shell-" + VERSION;
var MEMBER = "member-";
var VOUCHERS = /^\/vouchers(\/\d+(\/code\.svg)?)?$/;

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

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "forget-member") {
    event.waitUntil(forgetMembers(null));
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

// The kept page, with a note saying it is a copy and from when.
function asOf(response) {
  var at = new Date(Number(response.headers.get("X-Kept-At")) || Date.now());
  var when = at.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  var note = '<p class="notice" role="status" data-offline-note>You\'re offline. ' +
    "This is your copy as of " + when + ".</p>";
  return response.text().then(function (html) {
    return new Response(html.replace(/(<main\b[^>]*>)/, "$1" + note), {
      status: response.status,
      headers: { "Content-Type": "text/html; charset=utf-8" }
    });
  });
}

function offlinePage() {
  return caches.match("/offline").then(function (page) {
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

// Progressive enhancement only: every page works without this file.

// The words these scripts show, in the page's language (templates/_js_messages.html): the
// page's word for `key`, else the English given.
var pageWord = (function () {
  "use strict";
  var words = {};
  var element = document.getElementById("page-words");
  try {
    words = JSON.parse(element.getAttribute("data-words")) || {};
  } catch (e) { /* no words on this page: English */ }
  return function (key, english) {
    return typeof words[key] === "string" ? words[key] : english;
  };
})();
(function () {
  "use strict";
  // Copy buttons: shown only where the Clipboard API exists.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    var label = button.textContent;  // "Copy", in the page's language
    button.addEventListener("click", function () {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = pageWord("copied", "Copied");
        setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });
})();
// A working state on every action. When a form that sends something (method="post", or
// data-once) is submitted, its button says what is happening (its data-working label, such
// as "Redeeming…", else "Working…"), is marked busy and refuses a second press: one
// submission per page view. The server is idempotent anyway; this spares the member a
// confusing second wait. Coming back to the page (back button, back/forward cache) makes the
// button ready again.
(function () {
  "use strict";
  var WORKING = pageWord("working", "Working…");
  var busy = [];
  function submitButton(form, submitter) {
    if (submitter && submitter.form === form) return submitter;
    return form.querySelector("button:not([type]), button[type=submit], input[type=submit]");
  }
  function ready(entry) {
    var button = entry.button;
    button.disabled = entry.disabled;
    button.removeAttribute("aria-busy");
    if (button.tagName === "INPUT") button.value = entry.label;
    else button.replaceChildren.apply(button, entry.children);
    delete entry.form.dataset.sent;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var method = (event.submitter && event.submitter.getAttribute("formmethod")) || form.method;
    if (method.toLowerCase() !== "post" && !form.hasAttribute("data-once")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    if (event.defaultPrevented) return;
    form.dataset.sent = "1";
    var button = submitButton(form, event.submitter);
    if (!button) return;
    var working = button.getAttribute("data-working") || form.getAttribute("data-working") || WORKING;
    var entry = {
      form: form, button: button, disabled: button.disabled,
      label: button.value, children: Array.prototype.slice.call(button.childNodes)
    };
    busy.push(entry);
    if (button.tagName === "INPUT") button.value = working;
    else button.textContent = working;
    button.setAttribute("aria-busy", "true");
    // Disabled only once the browser has read the form: a disabled button's name and value
    // would not be sent.
    setTimeout(function () { if (button.hasAttribute("aria-busy")) button.disabled = true; }, 0);
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    busy.splice(0).forEach(ready);
  });
})();
// The location picker: the chosen location's whole name, wrapping, where a select would cut it
// (a phone's width). The select stays, transparent, over the name: a tap opens its picker.
(function () {
  "use strict";
  document.querySelectorAll("[data-location-pick]").forEach(function (pick) {
    var select = pick.querySelector("select");
    var shown = pick.querySelector("[data-location-shown]");
    if (!select || !shown) return;
    function show() {
      var option = select.options[select.selectedIndex];
      shown.textContent = option ? option.text : "";
    }
    select.addEventListener("change", show);
    window.addEventListener("pageshow", show);  // the browser may restore another choice
    show();
    pick.classList.add("is-enhanced");
  });
})();
// Share buttons (referrals): shown only where the Web Share API exists; the link, its copy
// button and the QR code work everywhere else.
(function () {
  "use strict";
  if (!navigator.share) return;
  document.querySelectorAll("[data-share]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.share({
        title: button.getAttribute("data-share-title") || document.title,
        text: button.getAttribute("data-share-text") || "",
        url: button.getAttribute("data-share")
      }).catch(function () { /* the member closed the share sheet */ });
    });
  });
})();
// Kiosk: a visible countdown to sign-out on member pages; any tap starts it again. When it
// reaches zero the page submits the "Done" form. The server's own idle timeout is the real
// guarantee; this only makes it visible and also ends the sign-in at Perkville.
(function () {
  "use strict";
  var idle = parseInt(document.body.getAttribute("data-kiosk-idle") || "", 10);
  var form = document.querySelector("form.signout");
  var banner = document.querySelector("[data-countdown]");
  var time = banner && banner.querySelector("[data-countdown-time]");
  if (!idle || !form || !time) return;
  var keepalive = document.body.getAttribute("data-keepalive");
  var left = idle;
  var lastPing = Date.now();
  function show() {
    var seconds = Math.max(left, 0) % 60;
    time.textContent = Math.floor(Math.max(left, 0) / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
  }
  function stay() {
    left = idle;
    show();
    // The server counts idle time from requests: tell it the member is still here.
    if (keepalive && Date.now() - lastPing > Math.max(1000, idle * 250)) {
      lastPing = Date.now();
      fetch(keepalive, { credentials: "same-origin", cache: "no-store" }).catch(function () {});
    }
  }
  ["pointerdown", "keydown", "touchstart", "scroll"].forEach(function (type) {
    document.addEventListener(type, stay, { passive: true });
  });
  banner.hidden = false;
  show();
  var timer = setInterval(function () {
    left -= 1;
    show();
    if (left <= 0) {
      clearInterval(timer);
      form.submit();
    }
  }, 1000);
  // Never show a member page kept in the back/forward cache (no-store already prevents it).
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });
})();
// After signing in to finish an action (step-up), carry on without a second tap; the page
// still has its "Continue" button for browsers without scripts.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form && !form.dataset.sent) {
    form.dataset.sent = "1";
    form.submit();
  }
})();
// Install on a phone: register the service worker (static/sw.js), and on the signed-out
// landing page forget the member's offline copies of their vouchers (the worker does too).
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  if (document.querySelector("[data-forget-member]") && window.caches) {
    caches.keys().then(function (keys) {
      keys.forEach(function (key) {
        if (key.indexOf("member-") === 0) caches.delete(key);
      });
    });
    if (navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget-member" });
    }
  }
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
    /* the site works without it */
  });
  // The worker shows its offline page in the language of the member's latest page.
  var lang = document.documentElement.lang;
  if (lang) {
    navigator.serviceWorker.ready.then(function (registration) {
      var worker = navigator.serviceWorker.controller || registration.active;
      if (worker) worker.postMessage({ type: "language", lang: lang });
    });
  }
})();

// Live updates on home, vouchers and challenges (member_app/live/). Progressive enhancement
// only: without this file the page shows the new balance on its next load.
// - One EventSource to /live while the page is visible; closed as soon as it is hidden, so a
//   phone in a pocket or a background tab costs nothing.
// - On a points event: a polite toast ("+15 points · Group fitness class"), the balance
//   counting up (at once when the member prefers reduced motion), a level-up moment (a
//   dialog that takes focus and gives it back), then the page's marked parts
//   ([data-live-section]) are fetched afresh and swapped in: next reward, vouchers,
//   challenge progress, level.
// - `event: end`: the session is over (signed out elsewhere, timed out); the stream stops.
(function () {
  "use strict";
  var config = document.querySelector("script[data-live]");
  if (!config || !window.EventSource || !window.fetch) return;
  var streamUrl = config.getAttribute("data-live");
  var freshUrl = config.getAttribute("data-live-fresh");
  var csrf = config.getAttribute("data-live-csrf") || "";
  var still = window.matchMedia("(prefers-reduced-motion: reduce)");
  var HIDE_TOAST_MS = 6000;
  var COUNT_MS = 900;
  var STALE_AFTER_HIDDEN_MS = 60000;

  var source = null;
  var ended = false;
  var hiddenAt = null;
  var known = null; // the balance this page last showed or was told of
  var level = null; // {id, floor} of the level this page last showed or was told of

  var shown = document.querySelector("[data-live-balance]");
  if (shown) known = parseInt(shown.getAttribute("data-live-balance"), 10);
  var shownLevel = document.querySelector("[data-live-level]");
  if (shownLevel) {
    level = {
      id: parseInt(shownLevel.getAttribute("data-live-level"), 10),
      floor: parseInt(shownLevel.getAttribute("data-live-level-floor"), 10)
    };
  }

  // The toast: a live region that exists before anything is said in it.
  var toast = document.createElement("div");
  toast.className = "live-toast";
  toast.setAttribute("role", "status");
  toast.setAttribute("aria-live", "polite");
  toast.setAttribute("data-live-toast", "");
  document.body.appendChild(toast);
  var toastTimer = null;

  // The words, in the page's language (templates/_js_messages.html; English without them),
  // and numbers as the server writes them (Babel): 1,250 · 1.250 · 1 250. "always": plain
  // Intl leaves Spanish 1250 ungrouped, Babel doesn't.
  var lang = document.documentElement.lang || "en";
  var words = {};
  try {
    words = JSON.parse(document.getElementById("page-words").getAttribute("data-words")) || {};
  } catch (e) { /* English */ }
  function word(key, english) {
    return typeof words[key] === "string" ? words[key] : english;
  }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (slot, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : slot;
    });
  }
  var numbers, plurals;
  try {
    numbers = new Intl.NumberFormat(lang, { useGrouping: "always" });
    plurals = new Intl.PluralRules(lang);
  } catch (e) {
    numbers = new Intl.NumberFormat("en-US");
    plurals = null;
  }
  function number(n) { return numbers.format(n); }
  // "1 point", "1,250 points": the page's form for the number's plural category.
  function points(n) {
    var forms = words.points || {};
    var category = plurals ? plurals.select(n) : (n === 1 ? "one" : "other");
    var form = forms[category] || forms.other || (n === 1 ? "{n} point" : "{n} points");
    return fill(form, { n: number(n) });
  }

  function say(text) {
    toast.textContent = text;
    toast.classList.add("is-shown");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.classList.remove("is-shown"); }, HIDE_TOAST_MS);
  }

  function countTo(element, to) {
    var from = parseInt(element.getAttribute("data-live-balance"), 10);
    element.setAttribute("data-live-balance", String(to));
    if (still.matches || isNaN(from) || from === to || !window.requestAnimationFrame) {
      element.textContent = number(to);
      return Promise.resolve();
    }
    return new Promise(function (done) {
      var start = null;
      function step(now) {
        if (start === null) start = now;
        var t = Math.min((now - start) / COUNT_MS, 1);
        var eased = 1 - Math.pow(1 - t, 3);
        element.textContent = number(Math.round(from + (to - from) * eased));
        if (t < 1) window.requestAnimationFrame(step);
        else done();
      }
      window.requestAnimationFrame(step);
    });
  }

  // Where focus was, found again after the part holding it has been swapped for a fresh copy.
  function remember(element) {
    if (!element || element === document.body) return null;
    return {
      element: element, id: element.id, tag: element.tagName,
      href: element.getAttribute("href"), text: element.textContent
    };
  }
  function refocus(place) {
    if (!place) return;
    var target = document.contains(place.element) ? place.element : null;
    if (!target && place.id) target = document.getElementById(place.id);
    if (!target) {
      target = Array.prototype.find.call(document.getElementsByTagName(place.tag), function (el) {
        return el.getAttribute("href") === place.href && el.textContent === place.text;
      }) || null;
    }
    if (target && target.focus) target.focus();
  }

  function levelUp(name) {
    var opener = remember(document.activeElement);
    var dialog = document.createElement("dialog");
    dialog.className = "live-levelup";
    dialog.setAttribute("aria-labelledby", "live-levelup-title");
    dialog.setAttribute("data-live-levelup", "");
    var title = document.createElement("h2");
    title.id = "live-levelup-title";
    title.textContent = fill(word("reached", "You reached {level}!"), { level: name });
    var text = document.createElement("p");
    text.textContent = word("level_up", "Your points just took you to a new level. Nice work!");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-primary";
    button.textContent = word("continue", "Continue");
    button.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      dialog.remove();
      refocus(opener);
    });
    dialog.append(title, text, button);
    document.body.appendChild(dialog);
    if (dialog.showModal) dialog.showModal();
    else dialog.setAttribute("open", "");
    button.focus();
  }

  // --- the page's parts, fetched afresh ----------------------------------------------------
  var refreshing = false;
  var again = false;

  function sections(root) {
    return Array.prototype.slice.call(root.querySelectorAll("[data-live-section]"));
  }
  function names(list) {
    return list.map(function (el) { return el.getAttribute("data-live-section"); }).join(" ");
  }
  function swap(fetched) {
    var main = document.getElementById("main");
    var newMain = fetched.getElementById("main");
    if (!main || !newMain) return;
    var focused = main.contains(document.activeElement) ? remember(document.activeElement) : null;
    var mine = sections(main);
    var theirs = sections(newMain);
    if (mine.length && names(mine) === names(theirs)) {
      mine.forEach(function (el, i) { el.replaceWith(document.adoptNode(theirs[i])); });
    } else {
      // A copy first: adopting a node takes it out of the live list being read.
      var nodes = Array.prototype.slice.call(newMain.childNodes);
      main.replaceChildren.apply(main, nodes.map(function (node) {
        return document.adoptNode(node);
      }));
    }
    var balance = document.querySelector("[data-live-balance]");
    if (balance) known = parseInt(balance.getAttribute("data-live-balance"), 10);
    if (focused && !document.contains(focused.element)) refocus(focused);
  }

  function refresh(afresh) {
    if (refreshing) { again = true; return; }
    refreshing = true;
    var headers = { "X-Live-Refresh": "1" };
    var ready = afresh && freshUrl
      ? fetch(freshUrl, {
        method: "POST", credentials: "same-origin", headers: { "X-Live-Refresh": "1" },
        body: new URLSearchParams({ csrf: csrf })
      }).catch(function () { return null; })
      : Promise.resolve(null);
    ready.then(function () {
      return fetch(window.location.pathname + window.location.search, {
        credentials: "same-origin", headers: headers, redirect: "manual", cache: "no-store"
      });
    }).then(function (response) {
      if (!response.ok) return null;
      return response.text();
    }).then(function (html) {
      if (html) swap(new DOMParser().parseFromString(html, "text/html"));
    }).catch(function () { /* the next change or load shows it */ }).then(function () {
      refreshing = false;
      if (again) { again = false; refresh(true); }
    });
  }

  // --- events --------------------------------------------------------------------------------
  function onPoints(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (typeof data.balance !== "number") return;
    var delta = known !== null && !isNaN(known) ? data.balance - known : data.delta;
    if (delta === 0) return; // this page already shows it
    known = data.balance;
    var what = data.title ? " · " + data.title : "";
    if (typeof delta === "number") {
      say((delta > 0 ? "+" : "−") + points(Math.abs(delta)) + what);
    } else {
      say(fill(word("you_have", "You have {points}"), { points: points(data.balance) }) + what);
    }
    var up = data.level_up === true;
    if (data.level) {
      if (!up && level && level.id !== data.level.id && level.floor < data.level.floor) up = true;
      level = { id: data.level.id, floor: data.level.floor };
    }
    var balance = document.querySelector("[data-live-balance]");
    var counted = balance ? countTo(balance, data.balance) : Promise.resolve();
    if (up && data.level) levelUp(data.level.name);
    counted.then(function () { refresh(true); });
  }

  // The stream's state, on the script element: "open", "closed" (hidden) or "ended".
  function state(name) { config.setAttribute("data-live-state", name); }

  function open() {
    if (source || ended || document.visibilityState !== "visible") return;
    source = new EventSource(streamUrl);
    source.addEventListener("open", function () { state("open"); });
    source.addEventListener("points", onPoints);
    source.addEventListener("end", function () { ended = true; close(); });
  }
  function close() {
    if (source) { source.close(); source = null; }
    state(ended ? "ended" : "closed");
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      var away = hiddenAt !== null ? Date.now() - hiddenAt : 0;
      hiddenAt = null;
      open();
      // Changes while hidden were not sent: after a long while, show the page as it is now.
      if (away >= STALE_AFTER_HIDDEN_MS && !ended) refresh(false);
    } else {
      hiddenAt = Date.now();
      close();
    }
  });
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", open);
  open();
})();

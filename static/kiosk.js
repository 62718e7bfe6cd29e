// The kiosk's attract screen (templates/landing.html). Progressive enhancement only: without
// this file every offer is listed, one under the other.
// - The offers are shown one at a time, with Previous and Next. They turn by themselves every
//   few seconds, unless the viewer prefers reduced motion, has paused them, or is using them
//   (pointer over them, or keyboard focus inside).
// - After a while without a tap the screen loads itself afresh: offers change, and the next
//   person should not read "You're signed out" meant for the previous one. If the last person
//   chose another language (the page renders a [data-language-reset] form then), a minute
//   without a tap sends that form instead: the next person starts in the default language.
// - The words it shows (Play, Pause) come from the page, in its language.
(function () {
  "use strict";
  var screen = document.querySelector("[data-attract]");
  if (!screen) return;
  var TURN_MS = 7000;
  var FRESH_MS = 15 * 60 * 1000;
  var NOTICE_MS = 60 * 1000;

  var home = screen.getAttribute("data-home") || "/";
  var reset = screen.querySelector("form[data-language-reset]");
  var fresh = null;
  function untouched() {
    clearTimeout(fresh);
    fresh = setTimeout(function () {
      if (reset) {
        reset.submit();
      } else {
        window.location.replace(home);
      }
    }, reset || window.location.search ? NOTICE_MS : FRESH_MS);
  }
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, untouched, { passive: true });
  });
  untouched();

  var box = screen.querySelector("[data-slides]");
  var controls = box && box.querySelector("[data-slides-controls]");
  var slides = box ? box.querySelectorAll("[data-slide]") : [];
  if (!controls || slides.length < 2) return;
  var list = slides[0].parentElement;
  var counter = controls.querySelector("[data-slides-at]");
  var pause = controls.querySelector("[data-slides-pause]");
  var still = window.matchMedia("(prefers-reduced-motion: reduce)");
  var at = 0;
  var paused = false;
  var using = false;
  var timer = null;

  function show(index) {
    at = (index + slides.length) % slides.length;
    for (var i = 0; i < slides.length; i++) {
      slides[i].classList.toggle("is-current", i === at);
    }
    counter.textContent = String(at + 1);
  }
  function turning() {
    return !still.matches && !paused && !using;
  }
  function schedule() {
    clearInterval(timer);
    timer = turning() ? setInterval(function () { show(at + 1); }, TURN_MS) : null;
    pause.hidden = still.matches;
    pause.textContent = paused
      ? pause.getAttribute("data-play") || "Play"
      : pause.getAttribute("data-pause") || "Pause";
    // Offers changing by themselves are not announced; a tap on Previous or Next is.
    list.setAttribute("aria-live", turning() ? "off" : "polite");
  }

  box.classList.add("is-rotating");
  controls.hidden = false;
  show(0);
  schedule();
  controls.querySelector("[data-slides-previous]").addEventListener("click", function () {
    show(at - 1);
    schedule();
  });
  controls.querySelector("[data-slides-next]").addEventListener("click", function () {
    show(at + 1);
    schedule();
  });
  pause.addEventListener("click", function () {
    paused = !paused;
    schedule();
  });
  box.addEventListener("focusin", function () { using = true; schedule(); });
  box.addEventListener("focusout", function (event) {
    using = box.contains(event.relatedTarget);
    schedule();
  });
  box.addEventListener("pointerenter", function (event) {
    if (event.pointerType === "mouse") { using = true; schedule(); }
  });
  box.addEventListener("pointerleave", function () {
    using = box.contains(document.activeElement);
    schedule();
  });
  if (still.addEventListener) still.addEventListener("change", schedule);
})();

// Point history, progressive enhancement: the "Older" page link becomes a "Show more" button
// that fetches that page, appends its lines to this list and moves on to the page after it.
// Without this script (or if a fetch fails) the Newer/Older links page through as they are.
(function () {
  "use strict";
  var list = document.querySelector("[data-history-list]");
  var older = document.querySelector("[data-history-older]");
  var status = document.querySelector("[data-history-status]");
  if (!list || !older || !window.fetch || !window.DOMParser) return;

  var pager = document.querySelector("[data-history-pager]");
  var next = older.href;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button-secondary";
  button.textContent = "Show more";
  older.replaceWith(button);

  function done() {
    button.remove();
    if (pager && !pager.children.length) pager.remove();
  }

  button.addEventListener("click", function () {
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    button.textContent = "Loading…";
    fetch(next, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("history page " + response.status);
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        // Not a history page (offline, signed out...): show it as it is.
        if (!page.querySelector("[data-history-list]")) throw new Error("not a history page");
        var lines = page.querySelectorAll("[data-history-list] > li");
        var first = null;
        lines.forEach(function (line) {
          var copy = document.importNode(line, true);
          copy.classList.add("is-new");
          list.appendChild(copy);
          if (!first) first = copy;
        });
        if (first) {
          // Keyboard and screen-reader users carry on from the first new line.
          first.setAttribute("tabindex", "-1");
          first.focus();
        }
        var after = page.querySelector("[data-history-older]");
        var last = !after || !lines.length;
        if (status) {
          status.textContent = lines.length + " more shown." + (last ? " That's all of your history." : "");
        }
        if (last) { done(); return; }
        next = new URL(after.getAttribute("href"), window.location.href).href;
        button.removeAttribute("aria-disabled");
        button.textContent = "Show more";
      })
      .catch(function () {
        // The page itself still works: go there.
        window.location.href = next;
      });
  });
})();

// Point history, progressive enhancement: the "Older" page link becomes a "Show more" button
// that fetches that page, appends its lines to this list and moves on to the page after it.
// Without this script (or if a fetch fails) the Newer/Older links page through as they are.
// Its words come from the page, in the page's language: the Older link's data-show-more,
// data-loading, data-shown-one / data-shown-other ("{n} more shown.", by the language's plural
// rules) and data-all-shown.
(function () {
  "use strict";
  var list = document.querySelector("[data-history-list]");
  var older = document.querySelector("[data-history-older]");
  var status = document.querySelector("[data-history-status]");
  if (!list || !older || !window.fetch || !window.DOMParser) return;

  var pager = document.querySelector("[data-history-pager]");
  var next = older.href;
  var words = {
    showMore: older.getAttribute("data-show-more") || older.textContent,
    loading: older.getAttribute("data-loading") || "",
    shownOne: older.getAttribute("data-shown-one") || "",
    shownOther: older.getAttribute("data-shown-other") || "",
    allShown: older.getAttribute("data-all-shown") || ""
  };
  var plural = null;
  try {
    plural = new Intl.PluralRules(document.documentElement.lang || undefined);
  } catch (e) {
    plural = null;
  }

  // "{n} more shown." in the plural form the page's language uses for n.
  function shown(n) {
    var one = plural ? plural.select(n) === "one" : n === 1;
    return (one ? words.shownOne : words.shownOther).replace("{n}", String(n));
  }

  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button-secondary";
  button.textContent = words.showMore;
  older.replaceWith(button);

  function done() {
    button.remove();
    if (pager && !pager.children.length) pager.remove();
  }

  button.addEventListener("click", function () {
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    if (words.loading) button.textContent = words.loading;
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
          status.textContent = shown(lines.length) + (last && words.allShown ? " " + words.allShown : "");
        }
        if (last) { done(); return; }
        next = new URL(after.getAttribute("href"), window.location.href).href;
        button.removeAttribute("aria-disabled");
        button.textContent = words.showMore;
      })
      .catch(function () {
        // The page itself still works: go there.
        window.location.href = next;
      });
  });
})();

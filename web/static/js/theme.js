/* The colour theme (Bootstrap's data-bs-theme): the system's light or dark
   (prefers-color-scheme) until the person picks one with the toggle in the menu; the
   pick is kept in this browser (localStorage). Loaded in <head>, so that a page is
   never drawn in the wrong theme first. */
(function () {
  "use strict";

  var KEY = "theme";
  var root = document.documentElement;
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function picked() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "light" || value === "dark" ? value : null;
    } catch (e) {
      return null; /* storage refused (private mode, policy): follow the system */
    }
  }

  function current() {
    return picked() || (media && media.matches ? "dark" : "light");
  }

  function show(theme) {
    root.setAttribute("data-bs-theme", theme);
    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
    }
  }

  show(current());
  if (media && media.addEventListener) {
    media.addEventListener("change", function () { show(current()); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("theme-toggle");
    if (!toggle) { return; }
    toggle.hidden = false;
    show(current());
    toggle.addEventListener("click", function () {
      var next = root.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
      try { window.localStorage.setItem(KEY, next); } catch (e) { /* this page only */ }
      show(next);
    });
  });
})();

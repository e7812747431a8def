/* The image page's keys: ← and → go to the previous and next image of the gallery,
   Escape back to the gallery (the page's own links, so it works the same without
   JavaScript, by clicking). Keys typed into a field, or with a modifier, are left alone. */
(function () {
  "use strict";

  var targets = { ArrowLeft: "previous-image", ArrowRight: "next-image", Escape: "back-to-gallery" };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    var active = document.activeElement;
    if (active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName))) {
      return;
    }
    if (document.querySelector("dialog[open], details[open] form")) {
      return;
    }
    var link = targets[event.key] && document.getElementById(targets[event.key]);
    if (link) {
      event.preventDefault();
      window.location.assign(link.href);
    }
  });
})();

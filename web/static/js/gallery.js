/* Gallery helpers: the justified grid's proportions, "select all" for bulk delete, and
   one confirmation before deleting. */

/* A justified grid (ul.gallery.justified): each item grows in proportion to its picture's
   aspect ratio (the <img> width and height), so that the pictures of a row come out at one
   height, each at its own ratio. Set through the CSSOM, which the CSP allows. */
(function () {
  "use strict";

  function layout(root) {
    var height = window.matchMedia("(max-width: 575.98px)").matches ? 120 : 200;
    (root || document).querySelectorAll(".gallery.justified > .gallery-item").forEach(function (item) {
      var img = item.querySelector("img.thumb");
      var w = img ? parseInt(img.getAttribute("width"), 10) : 0;
      var h = img ? parseInt(img.getAttribute("height"), 10) : 0;
      var ratio = w > 0 && h > 0 ? w / h : 1;
      item.style.flexGrow = String(ratio);
      item.style.flexBasis = Math.round(ratio * height) + "px";
      if (img) { img.style.aspectRatio = w > 0 && h > 0 ? w + " / " + h : "1 / 1"; }
    });
  }
  layout();
  window.matchMedia("(max-width: 575.98px)").addEventListener("change", function () { layout(); });
  document.addEventListener("gallery:changed", function () { layout(); });
})();

(function () {
  "use strict";

  var form = document.getElementById("bulk-delete-form");
  if (!form) { return; }
  var boxes = function () {
    return Array.prototype.slice.call(document.querySelectorAll('input.select-image[form="bulk-delete-form"]'));
  };
  /* Select mode: every checkbox shows, and a click on a picture ticks it instead of
     opening it (a listener in the capture phase, before the viewer's). */
  var mode = document.getElementById("select-mode");
  if (mode && boxes().length) {
    mode.hidden = false;
    mode.addEventListener("click", function () {
      var on = !document.body.classList.contains("gallery-selecting");
      document.body.classList.toggle("gallery-selecting", on);
      mode.setAttribute("aria-pressed", on ? "true" : "false"); /* pressed: Bootstrap's active look */
      mode.classList.toggle("active", on);
    });
    document.addEventListener("click", function (event) {
      if (!document.body.classList.contains("gallery-selecting")) { return; }
      var link = event.target.closest && event.target.closest(".gallery-item .thumb-link");
      var box = link && link.closest(".gallery-item").querySelector("input.select-image");
      if (!box) { return; }
      event.preventDefault();
      event.stopPropagation();
      box.checked = !box.checked;
    }, true);
  }
  var selectAll = form.querySelector("[data-select-all]");
  if (selectAll && boxes().length) {
    selectAll.hidden = false;
    form.querySelector('label[for="select-all"]').hidden = false;
    selectAll.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = selectAll.checked; });
    });
  }
  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.hasAttribute("data-no-confirm")) { return; }
    var chosen = boxes().filter(function (box) { return box.checked; }).length;
    if (chosen === 0) {
      event.preventDefault();
      window.alert(gettext("Select the images to delete first."));
      return;
    }
    var days = parseInt(form.getAttribute("data-trash-days") || "0", 10);
    var counts = { images: chosen, days: days };
    var question;
    if (days <= 0) {
      question = chosen === 1
        ? gettext("Delete 1 image? This cannot be undone.")
        : gettext("Delete %(images)s images? This cannot be undone.", counts);
    } else if (chosen === 1) {
      question = days === 1
        ? gettext("Move 1 image to the trash? You can restore it for 1 day.")
        : gettext("Move 1 image to the trash? You can restore it for %(days)s days.", counts);
    } else {
      question = days === 1
        ? gettext("Move %(images)s images to the trash? You can restore them for 1 day.", counts)
        : gettext("Move %(images)s images to the trash? You can restore them for %(days)s days.", counts);
    }
    if (!window.confirm(question)) {
      event.preventDefault();
      return;
    }
    var confirmField = document.createElement("input");
    confirmField.type = "hidden";
    confirmField.name = "confirm";
    confirmField.value = "yes";
    form.appendChild(confirmField);
  });
})();

/* Gallery helpers: "select all" for bulk delete, and one confirmation before deleting. */
(function () {
  "use strict";

  var form = document.getElementById("bulk-delete-form");
  if (!form) { return; }
  var boxes = function () {
    return Array.prototype.slice.call(document.querySelectorAll('input.select-image[form="bulk-delete-form"]'));
  };
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
      window.alert("Select the images to delete first.");
      return;
    }
    var images = chosen + " image" + (chosen === 1 ? "" : "s");
    var days = parseInt(form.getAttribute("data-trash-days") || "0", 10);
    var question = days > 0
      ? "Move " + images + " to the trash? You can restore " + (chosen === 1 ? "it" : "them") +
        " for " + days + " day" + (days === 1 ? "" : "s") + "."
      : "Delete " + images + "? This cannot be undone.";
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

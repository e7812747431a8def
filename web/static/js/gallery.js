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
    if (!window.confirm("Delete " + chosen + " image" + (chosen === 1 ? "" : "s") + "? This cannot be undone.")) {
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

/* Copy buttons: a button with data-copy="<id>" copies the text of that element. The
 * button stays hidden without JavaScript or without the clipboard (the text can still be
 * selected by hand). */
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.id + "-status");
    if (!source || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        if (status) { status.textContent = gettext("Copied."); }
      }, function () {
        if (status) { status.textContent = gettext("Could not copy; select the token and copy it."); }
      });
    });
  });
})();

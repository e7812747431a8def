/* A page that follows a background job reloads itself every few seconds while the
   job runs (an element with data-refresh="seconds" says so). */
(function () {
  "use strict";
  var holder = document.querySelector("[data-refresh]");
  if (!holder) { return; }
  var seconds = parseInt(holder.getAttribute("data-refresh"), 10) || 2;
  window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
})();

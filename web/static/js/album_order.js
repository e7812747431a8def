/* The album page: drag a picture to another place with the mouse. On the drop the
   page's new order is posted (the hidden form #album-arrange-form: its address, CSRF
   token and page) and the page is loaded again from the server. The move buttons stay
   for the keyboard and for touch screens, which get no dragging (no fine pointer). */
(function () {
  "use strict";

  var form = document.getElementById("album-arrange-form");
  var list = document.getElementById("album-images");
  if (!form || !list || !window.matchMedia || !window.matchMedia("(pointer: fine)").matches) {
    return;
  }
  var problem = document.getElementById("album-arrange-problem");
  var dragged = null;
  var before = null; // the order when the drag began, to put back when it is not saved
  var dropped = false;

  function items() {
    return Array.prototype.slice.call(list.children);
  }

  function order() {
    return items().map(function (item) { return item.getAttribute("data-image-id"); });
  }

  function putBack() {
    before.forEach(function (item) { list.appendChild(item); });
  }

  function save() {
    var data = new FormData(form);
    order().forEach(function (id) { data.append("image_id", id); });
    list.setAttribute("aria-busy", "true");
    return fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin", redirect: "manual"
    }).then(function (response) {
      if (response.type !== "opaqueredirect") { throw new Error(String(response.status)); }
      window.location.reload();
    }).catch(function () {
      putBack();
      list.removeAttribute("aria-busy");
      if (problem) {
        problem.textContent = gettext("The new order could not be saved; the album keeps its order.");
        problem.hidden = false;
      }
    });
  }

  items().forEach(function (item) {
    item.setAttribute("draggable", "true");
    item.classList.add("album-draggable");
    Array.prototype.forEach.call(item.querySelectorAll("a, img"), function (inner) {
      inner.setAttribute("draggable", "false");
    });
  });
  var hint = document.getElementById("album-drag-hint");
  if (hint) { hint.hidden = false; }

  list.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("li[data-image-id]");
    if (!item || item.parentNode !== list) { return; }
    dragged = item;
    before = items();
    dropped = false;
    item.classList.add("album-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.getAttribute("data-image-id"));
  });

  list.addEventListener("dragover", function (event) {
    if (!dragged) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    var over = event.target.closest && event.target.closest("li[data-image-id]");
    if (!over || over === dragged || over.parentNode !== list) { return; }
    var box = over.getBoundingClientRect();
    var after = event.clientX > box.left + box.width / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });

  list.addEventListener("drop", function (event) {
    if (!dragged) { return; }
    event.preventDefault();
    dropped = true;
    var changed = order().join(",") !== before.map(function (item) {
      return item.getAttribute("data-image-id");
    }).join(",");
    if (changed) { save(); }
  });

  list.addEventListener("dragend", function () {
    if (!dragged) { return; }
    dragged.classList.remove("album-dragging");
    if (!dropped) { putBack(); }
    dragged = null;
  });
})();

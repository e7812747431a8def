/* Bulk upload with a progress bar and a result per file.
 *
 * Enhances the plain upload form of /myfiles: files chosen or dropped on the drop zone
 * are posted one per request to /api/images (two at a time), each with its own
 * <progress> and result line, a "Cancel" button while it waits or uploads and a "Retry"
 * button once it failed or was cancelled. Images pasted on the page join the queue too.
 * After each upload the new image's card (GET data-card with its id) goes to the top of
 * its gallery and the counters change, without a reload. Without JavaScript the form
 * posts all files at once.
 */
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var input = form.querySelector('input[type="file"][name="file"]');
  var token = form.querySelector('input[name="csrf_token"]');
  var endpoint = form.getAttribute("data-api");
  var list = document.getElementById("upload-results");
  var zone = document.getElementById("drop-zone");
  var summary = document.getElementById("upload-summary");
  var cardUrl = form.getAttribute("data-card"); /* ends with /0: the image's id goes there */
  var CONCURRENCY = 2;
  var GALLERY_CLASS = "gallery justified list-unstyled"; /* as _grid.html */
  var queue = [];
  var running = 0;
  var finished = { ok: 0, failed: 0 };

  function visibility() {
    var checked = form.querySelector('input[name="visibility"]:checked');
    return checked ? checked.value : "public";
  }

  function addRow(file) {
    var item = document.createElement("li");
    item.className = "list-group-item upload-item";
    var name = document.createElement("span");
    name.className = "upload-name text-break";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.className = "upload-progress";
    bar.setAttribute("aria-label", gettext("Upload progress of %(name)s", { name: file.name }));
    var status = document.createElement("span");
    status.className = "upload-status small";
    status.setAttribute("role", "status");
    status.textContent = gettext("Waiting…");
    var actions = document.createElement("span");
    actions.className = "upload-actions";
    var cancel = button(gettext("Cancel"), gettext("Cancel the upload of %(name)s", { name: file.name }));
    cancel.className += " upload-cancel";
    var retry = button(gettext("Retry"), gettext("Retry the upload of %(name)s", { name: file.name }));
    retry.className += " upload-retry";
    retry.hidden = true;
    actions.appendChild(cancel);
    actions.appendChild(retry);
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    item.appendChild(actions);
    list.appendChild(item);
    var row = { item: item, bar: bar, status: status, cancel: cancel, retry: retry, xhr: null };
    cancel.addEventListener("click", function () { stop(row); });
    retry.addEventListener("click", function () { again(row); });
    return row;
  }

  function button(text, label) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-sm btn-outline-secondary";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    return b;
  }

  /* Cancel: a waiting file leaves the queue, a file on its way is aborted. */
  function stop(row) {
    if (row.xhr) {
      row.cancelled = true;
      row.xhr.abort();
      return;
    }
    var at = queue.indexOf(row.job);
    if (at < 0) { return; }
    queue.splice(at, 1);
    running += 1; /* done() counts it down again */
    done(row, false, gettext("Cancelled"));
  }

  /* Retry: the same file, sent again as a new upload. */
  function again(row) {
    finished.failed -= 1;
    row.item.classList.remove("upload-failed");
    row.item.removeAttribute("data-result");
    var bar = row.bar.cloneNode(false); /* a new bar: this try's progress from 0 */
    bar.value = 0;
    row.bar.replaceWith(bar);
    row.bar = bar;
    row.status.textContent = gettext("Waiting…");
    row.retry.hidden = true;
    row.cancel.hidden = false;
    row.cancelled = false;
    summary.hidden = true;
    queue.push(row.job);
    next();
  }

  /* The new image's card on top of its gallery, and the new counters. */
  function showCard(id) {
    if (!cardUrl || !window.fetch) { return; }
    window.fetch(cardUrl.replace(/0$/, String(id)), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (body) {
      if (!body) { return; }
      var usage = document.getElementById("usage");
      if (usage) { usage.innerHTML = body.usage; }
      var card = document.querySelector(".upload-card");
      if (card && body.count > 0) { card.classList.add("upload-compact"); }
      var section = document.getElementById(body.visibility + "-images");
      if (!section || section.querySelector('[data-image-id="' + body.id + '"]')) { return; }
      var gallery = section.querySelector("ul.gallery");
      if (!gallery) {
        gallery = document.createElement("ul");
        gallery.className = GALLERY_CLASS;
        var empty = section.querySelector(".empty-state");
        if (empty) { empty.replaceWith(gallery); } else { section.appendChild(gallery); }
      }
      var holder = document.createElement("template");
      holder.innerHTML = body.card.trim();
      var first = gallery.querySelector(":scope > li.gallery-item");
      gallery.insertBefore(holder.content, first);
      document.dispatchEvent(new CustomEvent("gallery:changed", { detail: { id: body.id } }));
    }).catch(function () { /* the upload worked; a reload shows the card */ });
  }

  function done(row, ok, message) {
    row.xhr = null;
    row.cancel.hidden = true;
    row.retry.hidden = ok;
    row.bar.value = 100;
    row.item.classList.add(ok ? "upload-ok" : "upload-failed");
    row.item.setAttribute("data-result", ok ? "uploaded" : "failed");
    if (typeof message === "string") {
      row.status.textContent = message;
    } else {
      row.status.textContent = "";
      row.status.appendChild(message);
    }
    if (ok) { finished.ok += 1; } else { finished.failed += 1; }
    running -= 1;
    next();
  }

  /* "Uploaded as <name> (visibility)", the name a link to the new image's page. */
  function uploadedAs(body) {
    var result = document.createDocumentFragment();
    result.appendChild(document.createTextNode(gettext("Uploaded as") + " "));
    var link = document.createElement("a");
    link.className = "upload-link";
    link.href = body.page;
    link.textContent = body.filename;
    result.appendChild(link);
    var names = { "public": gettext("public"), "private": gettext("private") };
    var rest = " (" + (names[body.visibility] || body.visibility) + ")";
    if (body.duplicate_of) {
      rest += " — " + gettext("you already have this image as %(name)s", { name: body.duplicate_of });
    }
    result.appendChild(document.createTextNode(rest));
    return result;
  }

  function send(job) {
    var file = job.file, row = job.row, vis = job.visibility;
    var data = new FormData();
    data.append("file", file, file.name);
    data.append("visibility", vis);
    var xhr = new XMLHttpRequest();
    row.xhr = xhr;
    xhr.open("POST", endpoint);
    xhr.setRequestHeader("Accept", "application/json");
    if (token) { xhr.setRequestHeader("X-CSRFToken", token.value); }
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        row.bar.value = Math.round((event.loaded / event.total) * 99);
        row.status.textContent = gettext("Uploading… %(percent)s%", { percent: row.bar.value });
      }
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 201) {
        done(row, true, uploadedAs(body));
        showCard(body.id);
      } else {
        done(row, false, body.error || gettext("Failed (HTTP %(status)s)", { status: xhr.status }));
      }
    });
    xhr.addEventListener("error", function () {
      done(row, false, gettext("The connection failed; please try again."));
    });
    xhr.addEventListener("abort", function () {
      done(row, false, gettext("Cancelled"));
    });
    row.status.textContent = gettext("Uploading… %(percent)s%", { percent: 0 });
    xhr.send(data);
  }

  function next() {
    while (running < CONCURRENCY && queue.length) {
      var job = queue.shift();
      running += 1;
      send(job);
    }
    if (running === 0 && queue.length === 0) {
      summary.textContent = gettext("%(ok)s uploaded, %(failed)s failed.", { ok: finished.ok, failed: finished.failed });
      summary.hidden = false;
    }
  }

  function enqueue(files) {
    if (!files || !files.length) { return; }
    summary.hidden = true;
    var vis = visibility();
    for (var i = 0; i < files.length; i += 1) {
      var job = { file: files[i], row: addRow(files[i]), visibility: vis };
      job.row.job = job;
      queue.push(job);
    }
    next();
  }

  form.addEventListener("submit", function (event) {
    if (!input.files || !input.files.length) { return; } // let the server say what is missing
    event.preventDefault();
    enqueue(input.files);
    input.value = "";
  });

  zone.hidden = false;
  form.classList.add("has-drop-zone"); /* on a phone the zone stands in for the file field */
  zone.addEventListener("click", function () { input.click(); });
  zone.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.add("drag-over");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("drag-over"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    enqueue(event.dataTransfer.files);
  });

  /* Images pasted anywhere on the page (not into a text field) join the queue. */
  document.addEventListener("paste", function (event) {
    var data = event.clipboardData;
    if (!data || !data.files || !data.files.length) { return; }
    var images = Array.prototype.filter.call(data.files, function (file) {
      return /^image\//.test(file.type);
    });
    if (!images.length) { return; }
    event.preventDefault();
    enqueue(images);
  });
})();

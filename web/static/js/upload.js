/* Bulk upload with a progress bar and a result per file.
 *
 * Enhances the plain upload form of /myfiles: files chosen or dropped on the drop zone
 * are posted one per request to /api/images (two at a time), each with its own
 * <progress> and result line. Without JavaScript the form posts all files at once.
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
  var CONCURRENCY = 2;
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
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    list.appendChild(item);
    return { item: item, bar: bar, status: status };
  }

  function done(row, ok, message) {
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

  function send(file, row, vis) {
    var data = new FormData();
    data.append("file", file, file.name);
    data.append("visibility", vis);
    var xhr = new XMLHttpRequest();
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
      } else {
        done(row, false, body.error || gettext("Failed (HTTP %(status)s)", { status: xhr.status }));
      }
    });
    xhr.addEventListener("error", function () {
      done(row, false, gettext("The connection failed; please try again."));
    });
    row.status.textContent = gettext("Uploading… %(percent)s%", { percent: 0 });
    xhr.send(data);
  }

  function next() {
    while (running < CONCURRENCY && queue.length) {
      var job = queue.shift();
      running += 1;
      send(job.file, job.row, job.visibility);
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
      queue.push({ file: files[i], row: addRow(files[i]), visibility: vis });
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
})();

/* The viewer: a thumbnail of a gallery, album or shared album opens its picture full
   screen in a <dialog> (gallery/_viewer.html). ← and → (or a swipe) step through the
   pictures of that grid, Home and End jump to the first and last loaded, Space starts and
   stops a slideshow, Escape closes. Past the last picture of a page the viewer reads the
   grid's "Next page" (the same page a click on it opens) and appends its cards to the
   grid, so the grid grows as the viewer (or its slideshow) walks on; the galleries page
   forward only, so ← stops at the first picture loaded. The address follows the picture (the image's own page), so
   that reloading or sharing it opens that page; opening the viewer adds one history entry
   and steps replace it, so Back closes the viewer and Forward opens it again.
   Without JavaScript, or without <dialog>, the thumbnails link to the image pages.
   Every word shown comes from the page (the dialog's markup and its data-label-*
   attributes), so that the templates' translations cover it. */
(function () {
  "use strict";

  var dialog = document.getElementById("viewer");
  if (!dialog || typeof dialog.showModal !== "function" || !window.history.pushState) {
    return;
  }

  var STRINGS = {
    play: dialog.getAttribute("data-label-play"),
    stop: dialog.getAttribute("data-label-stop")
  };
  var SWIPE_PX = 40; // a horizontal move of at least this much steps
  var ITEMS = "a.thumb-link[data-viewer-src]";

  var byId = function (id) { return document.getElementById(id); };
  var image = document.createElement("img"); // added on opening: no empty <img> before
  var stage = byId("viewer-stage");
  var playButton = byId("viewer-play");
  var interval = byId("viewer-interval");
  var infoButton = byId("viewer-info");
  var details = byId("viewer-details");

  var list = [];      // the thumbnail links of the grid being viewed, in its order
  var index = -1;     // the one shown
  var ours = false;   // the history entry shown is the viewer's (Back closes the viewer)
  var timer = null;   // the slideshow's next step
  var pageTitle = document.title; // the gallery's, again on closing
  var prefetched = {};
  var keep = [];      // prefetching Image objects, kept until they load
  var loading = null; // the grid whose next page is being read

  function itemsWith(link) {
    var grid = link.closest("ul.gallery") || document;
    return Array.prototype.slice.call(grid.querySelectorAll(ITEMS));
  }

  // --- the next page of a grid -----------------------------------------------------------

  // The grid's "Next page" link: in a <nav> after the grid, before any other grid.
  function nextLink(grid) {
    for (var el = grid.nextElementSibling; el; el = el.nextElementSibling) {
      if (el.matches("ul.gallery")) { return null; }
      var link = el.matches("nav") && el.querySelector('a[rel="next"]');
      if (link) { return link; }
    }
    return null;
  }

  // How to find the same grid in another page: its id, or its section's.
  function gridSelector(grid) {
    if (grid.id) { return "#" + grid.id; }
    var section = grid.parentElement && grid.parentElement.closest("[id]");
    return section ? "#" + section.id + " ul.gallery" : "ul.gallery";
  }

  function lastMonth(grid) {
    var headers = grid.querySelectorAll(":scope > .month-header");
    return headers.length ? headers[headers.length - 1].textContent.trim() : null;
  }

  // Reads the grid's next page and appends its cards (a month already heading the last
  // ones is not repeated); the "Next page" link then goes to the page after, or goes.
  // ``then`` runs afterwards, whether or not the page came.
  function loadMore(grid, then) {
    var link = nextLink(grid);
    if (!link || loading) { return; }
    loading = grid;
    window.fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var more = page.querySelector(gridSelector(grid));
        if (!more) { throw new Error("no grid"); }
        var month = lastMonth(grid);
        Array.prototype.slice.call(more.children).forEach(function (item, n) {
          if (n === 0 && item.matches(".month-header") && item.textContent.trim() === month) {
            return;
          }
          grid.appendChild(document.adoptNode(item));
        });
        var after = nextLink(more);
        if (after) {
          link.setAttribute("href", after.getAttribute("href"));
        } else {
          link.closest("nav").remove();
        }
        document.dispatchEvent(new CustomEvent("gallery:changed"));
        loading = null;
        then();
      })
      .catch(function () { loading = null; then(); }); // as if nothing came: stay
  }

  function data(link, name) {
    return link.getAttribute("data-viewer-" + name) || "";
  }

  function setField(name, value, datetime) {
    var row = dialog.querySelector('[data-viewer-field="' + name + '"]');
    if (!row) { return; }
    row.hidden = !value;
    var target = row.querySelector("time") || row.querySelector("dd");
    target.textContent = value;
    if (datetime) { target.setAttribute("datetime", datetime); }
  }

  function setLink(id, href) {
    var link = byId(id);
    link.hidden = !href;
    link.setAttribute("href", href || "#");
  }

  function load(target, link) {
    var srcset = data(link, "srcset");
    if (srcset) {
      target.sizes = "100vw";
      target.srcset = srcset;
    } else {
      target.removeAttribute("srcset");
    }
    target.src = data(link, "src");
  }

  function prefetch(link) {
    if (!link || prefetched[link.href]) { return; }
    prefetched[link.href] = true;
    var next = new Image();
    var done = function () { keep.splice(keep.indexOf(next), 1); };
    next.addEventListener("load", done);
    next.addEventListener("error", done);
    keep.push(next);
    load(next, link);
  }

  function show(at) {
    index = Math.max(0, Math.min(list.length - 1, at));
    var link = list[index];
    image.alt = data(link, "name");
    image.width = parseInt(data(link, "width"), 10) || 0;
    image.height = parseInt(data(link, "height"), 10) || 0;
    load(image, link);
    // As the image's page is titled: "name · site" (the site's name from this page's title).
    document.title = data(link, "name") + " · " + pageTitle.split(" · ").pop();
    byId("viewer-name").textContent = data(link, "name");
    byId("viewer-name").title = data(link, "name");
    byId("viewer-position").textContent = (index + 1) + " / " + list.length;
    byId("viewer-prev").hidden = index === 0;
    byId("viewer-next").hidden = index === list.length - 1 && !hasMore();
    ["owner", "visibility", "size", "dimensions"].forEach(function (name) {
      setField(name, data(link, name));
    });
    setField("date", data(link, "date"), data(link, "datetime"));
    setLink("viewer-download", data(link, "download"));
    setLink("viewer-original", data(link, "original"));
    setLink("viewer-page", link.href);
    prefetch(list[index + 1]);
    prefetch(list[index - 1]);
  }

  function grid() {
    return list.length ? list[0].closest("ul.gallery") : null;
  }

  function hasMore() {
    var shown = grid();
    return Boolean(shown && nextLink(shown));
  }

  // Steps past the last picture loaded: once the next page is in, on to its first
  // picture, unless the viewer has moved or closed meanwhile.
  function goOn(otherwise) {
    var from = index;
    var shown = list[index];
    loadMore(grid(), function () {
      list = itemsWith(shown);
      if (dialog.open && index === from && list.length > from + 1) {
        otherwise(from + 1);
      } else if (dialog.open) {
        show(index); // the position and the next button count the new pictures
        if (timer !== null) { schedule(); } // a slideshow tries again later
      }
    });
  }

  function go(at) {
    if (at === list.length && hasMore()) {
      goOn(go);
      return;
    }
    if (at < 0 || at >= list.length || at === index) { return; }
    show(at);
    window.history.replaceState({ viewer: list[index].href }, "", list[index].href);
    if (timer !== null) { schedule(); }
  }

  function open(link, fromHistory) {
    list = itemsWith(link);
    show(list.indexOf(link));
    if (!fromHistory) {
      window.history.pushState({ viewer: link.href }, "", link.href);
    }
    ours = true;
    if (!image.parentNode) {
      image.id = "viewer-image";
      image.decoding = "async";
      stage.insertBefore(image, stage.firstChild);
    }
    if (!dialog.open) {
      document.documentElement.classList.add("viewer-open");
      dialog.showModal();
      stage.focus();
    }
  }

  function close() {
    if (dialog.open) { dialog.close(); }
  }

  // --- the slideshow --------------------------------------------------------------------

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      if (index + 1 === list.length && hasMore()) {
        goOn(go); // go() schedules the step after
        return;
      }
      show(index + 1 < list.length ? index + 1 : 0); // round again after the last
      window.history.replaceState({ viewer: list[index].href }, "", list[index].href);
      schedule();
    }, (parseInt(interval.value, 10) || 5) * 1000);
  }

  function setPlaying(playing) {
    if (playing && (list.length > 1 || hasMore())) {
      schedule();
    } else {
      window.clearTimeout(timer);
      timer = null;
    }
    playButton.setAttribute("aria-pressed", timer !== null ? "true" : "false");
    playButton.textContent = timer !== null ? STRINGS.stop : STRINGS.play;
  }

  // --- events ---------------------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(ITEMS);
    if (!link || event.defaultPrevented || event.button !== 0 ||
        event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
      return; // a new tab or window: the image's page, as the link says
    }
    event.preventDefault();
    open(link, false);
  });

  dialog.addEventListener("close", function () {
    setPlaying(false);
    document.documentElement.classList.remove("viewer-open");
    document.title = pageTitle;
    if (ours) {
      ours = false;
      window.history.back(); // the gallery's address again
    }
    var shown = list[index];
    if (shown && document.contains(shown)) { shown.focus(); }
  });

  window.addEventListener("popstate", function (event) {
    var href = event.state && event.state.viewer;
    var link = href && Array.prototype.slice.call(document.querySelectorAll(ITEMS))
      .filter(function (item) { return item.href === href; })[0];
    if (link) {
      open(link, true);
    } else {
      ours = false;
      close();
    }
  });

  dialog.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) { return; }
    var tag = event.target.tagName;
    if (tag === "SELECT" || tag === "INPUT") { return; }
    switch (event.key) {
      case "ArrowLeft": go(index - 1); break;
      case "ArrowRight": go(index + 1); break;
      case "Home": go(0); break;
      case "End": go(list.length - 1); break;
      case " ":
        if (tag === "BUTTON" || tag === "A") { return; } // the control's own action
        setPlaying(timer === null);
        break;
      default: return;
    }
    event.preventDefault();
  });

  byId("viewer-prev").addEventListener("click", function () { go(index - 1); });
  byId("viewer-next").addEventListener("click", function () { go(index + 1); });
  byId("viewer-close").addEventListener("click", close);
  playButton.addEventListener("click", function () { setPlaying(timer === null); });
  interval.addEventListener("change", function () { if (timer !== null) { schedule(); } });
  infoButton.addEventListener("click", function () {
    details.hidden = !details.hidden;
    infoButton.setAttribute("aria-expanded", details.hidden ? "false" : "true");
  });

  // A swipe (touch, pen or a mouse drag) across the picture steps: left for the next.
  var start = null;
  stage.addEventListener("pointerdown", function (event) {
    if (event.isPrimary) { start = { x: event.clientX, y: event.clientY }; }
  });
  stage.addEventListener("pointercancel", function () { start = null; });
  stage.addEventListener("pointerup", function (event) {
    if (!start || !event.isPrimary) { return; }
    var dx = event.clientX - start.x;
    var dy = event.clientY - start.y;
    start = null;
    if (Math.abs(dx) >= SWIPE_PX && Math.abs(dx) > Math.abs(dy)) {
      go(dx < 0 ? index + 1 : index - 1);
    }
  });
  image.addEventListener("dragstart", function (event) { event.preventDefault(); });
})();

/* Strings for the scripts in the page's language. A script writes
   gettext("Uploaded as %(name)s", {name: file.name}): the English text is the key, looked
   up in the JSON data block "script-strings" that the server renders on every page in
   another language than English (a data block, not a script: the CSP allows it); the
   English text itself otherwise. Babel extracts these calls into the catalogue like the
   server's own strings, so a missing translation fails the tests. */
(function () {
  "use strict";

  var strings = null;

  function load() {
    if (strings === null) {
      strings = {};
      var block = document.getElementById("script-strings");
      if (block) {
        try { strings = JSON.parse(block.textContent) || {}; } catch (e) { strings = {}; }
      }
    }
    return strings;
  }

  window.gettext = function (text, values) {
    var translated = load()[text] || text;
    return translated.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  };
})();

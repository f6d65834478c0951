/* The new-request form: files dropped on the drop zone join the file input, and each
   chosen file is listed with its size; a file over the limit is flagged at once (the
   server checks again). Works on content htmx swaps in, by delegation. */
(function () {
  "use strict";

  function zoneOf(target) {
    return target && target.closest ? target.closest("[data-dropzone]") : null;
  }

  function formatSize(bytes) {
    if (bytes >= 1000000) return (bytes / 1000000).toFixed(1) + " MB";
    if (bytes >= 1000) return Math.round(bytes / 1000) + " kB";
    return bytes + " B";
  }

  function render(input) {
    var list = document.getElementById("attachment-list");
    if (!list) return;
    var limit = parseInt(input.getAttribute("data-max-bytes") || "0", 10);
    var tooLarge = input.getAttribute("data-too-large") || "too large";
    list.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = file.name + " · " + formatSize(file.size);
      item.appendChild(name);
      if (limit && file.size > limit) {
        var bad = document.createElement("span");
        bad.className = "bad";
        bad.textContent = tooLarge;
        item.appendChild(bad);
      }
      list.appendChild(item);
    });
  }

  // Choosing another client or contract re-draws the whole form, preview included: the
  // change must not also reach the form's own preview request (one request at a time).
  function keepChangeLocal(root) {
    var scope = root && root.querySelectorAll ? root : document;
    Array.prototype.forEach.call(scope.querySelectorAll("[data-redraws-form]"), function (el) {
      if (el.dataset.keepsChange) return;
      el.dataset.keepsChange = "1";
      el.addEventListener("change", function (event) { event.stopPropagation(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { keepChangeLocal(document); });
  document.addEventListener("htmx:load", function (event) { keepChangeLocal(event.target); });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input && input.matches && input.matches("[data-dropzone] input[type=file]")) render(input);
  });

  document.addEventListener("dragover", function (event) {
    var zone = zoneOf(event.target);
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("dropzone--over");
  });

  document.addEventListener("dragleave", function (event) {
    var zone = zoneOf(event.target);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("dropzone--over");
  });

  document.addEventListener("drop", function (event) {
    var zone = zoneOf(event.target);
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dropzone--over");
    var input = zone.querySelector("input[type=file]");
    if (!input || !event.dataTransfer) return;
    // Keep what was chosen before and add what was dropped.
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files || [], function (f) { all.items.add(f); });
    Array.prototype.forEach.call(event.dataTransfer.files, function (f) { all.items.add(f); });
    input.files = all.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();

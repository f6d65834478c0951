/* Reglament agent workspace: live countdowns, the queue's self-refresh, keyboard shortcuts.
   Loaded with `defer`; no inline script or style (the Content-Security-Policy forbids them). */
(function () {
  "use strict";

  var root = document.getElementById("workspace");
  if (!root) { return; }

  // ------------------------------------------------------------ countdowns
  // Every [data-due] element (epoch milliseconds; [data-warn] the instant the
  // regulation's warning share of the target is used) shows the time left, in
  // words and in colour: ok (green) → warn (amber) → bad (red, overdue).
  function words(key, values) {
    var text = root.getAttribute("data-t-" + key) || "";
    return text.replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var rest = minutes % 60;
    if (days) { return words("d", { d: days, h: hours }); }
    if (hours) { return words("h", { h: hours, m: (rest < 10 ? "0" : "") + rest }); }
    return words("m", { m: rest });
  }

  var LEVELS = ["ok", "warn", "bad"];

  function tick() {
    var now = Date.now();
    var clocks = root.querySelectorAll("[data-due]");
    for (var i = 0; i < clocks.length; i++) {
      var el = clocks[i];
      var due = Number(el.getAttribute("data-due"));
      var warn = el.hasAttribute("data-warn") ? Number(el.getAttribute("data-warn")) : null;
      var level, text;
      if (now >= due) {
        level = "bad";
        text = words("over", { t: span(now - due) });
      } else {
        text = words("left", { t: span(due - now) });
        level = warn !== null && now >= warn ? "warn" : "ok";
        if (level === "warn") { text = words("risk", { t: text }); }
      }
      if (el.textContent !== text) { el.textContent = text; }
      for (var j = 0; j < LEVELS.length; j++) {
        el.classList.toggle("countdown--" + LEVELS[j], LEVELS[j] === level);
      }
      var row = el.closest(".queue__row");
      if (row) {
        for (var k = 0; k < LEVELS.length; k++) {
          row.classList.toggle("queue__row--" + LEVELS[k], LEVELS[k] === level);
        }
      }
    }
  }

  tick();
  window.setInterval(tick, 1000);

  // ---------------------------------------------------- the queue's refresh
  // htmx fetches the table again on "queue-refresh"; it is sent every 30 s
  // while the tab is visible, and at once when a hidden tab comes back late.
  var lastRefresh = Date.now();
  function results() { return document.getElementById("queue-results"); }

  function refresh() {
    var el = results();
    if (!el || !window.htmx || document.hidden) { return; }
    var seconds = Number(el.getAttribute("data-refresh-seconds")) || 30;
    if (Date.now() - lastRefresh < seconds * 1000 - 500) { return; }
    lastRefresh = Date.now();
    window.htmx.trigger(el, "queue-refresh");
  }

  if (results()) {
    window.setInterval(refresh, 5000);
    document.addEventListener("visibilitychange", refresh);
    document.body.addEventListener("htmx:afterSwap", tick);
  }

  // The queue's "updated at" in the agent's own clock; filters folded on a phone
  // unless some are on.
  function localTimes() {
    var times = root.querySelectorAll("time[data-local-time]");
    for (var i = 0; i < times.length; i++) {
      var at = new Date(times[i].getAttribute("datetime"));
      if (!isNaN(at.getTime())) { times[i].textContent = at.toLocaleTimeString(); }
    }
  }
  localTimes();
  document.body.addEventListener("htmx:afterSwap", localTimes);

  var filterBox = document.getElementById("queue-filter-box");
  if (filterBox && !filterBox.hasAttribute("data-active") &&
      window.matchMedia("(max-width: 48rem)").matches) {
    filterBox.open = false;
  }

  // --------------------------------------------------- keyboard shortcuts
  var dialog = document.getElementById("shortcuts");
  var opener = document.getElementById("shortcuts-open");
  var replyForm = document.getElementById("reply-form");

  function showShortcuts() {
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) { dialog.showModal(); }
  }
  if (opener) { opener.addEventListener("click", showShortcuts); }

  function markReplyKind() {
    if (!replyForm) { return; }
    var internal = replyForm.querySelector("input[value='internal']");
    replyForm.classList.toggle("ws-reply--internal", !!(internal && internal.checked));
  }

  function writeAs(kind) {
    if (!replyForm) { return; }
    var choice = replyForm.querySelector("input[type='radio'][value='" + kind + "']");
    if (choice) { choice.checked = true; }
    markReplyKind();
    var body = replyForm.querySelector("textarea");
    if (body) {
      body.focus();
      body.scrollIntoView({ block: "center" });
    }
  }

  if (replyForm) {
    replyForm.addEventListener("change", markReplyKind);
    markReplyKind();
  }

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target) || (dialog && dialog.open)) { return; }
    var key = event.key;
    if (key === "r" && replyForm) {
      event.preventDefault();
      writeAs("public");
    } else if (key === "n" && replyForm) {
      event.preventDefault();
      writeAs("internal");
    } else if (key === "a") {
      var assign = document.getElementById("assign-me");
      if (assign) {
        event.preventDefault();
        assign.click();
      }
    } else if (key === "?" && dialog) {
      event.preventDefault();
      showShortcuts();
    }
  });

  // After a refused action, bring its form (with the message) into view.
  var bound = root.getAttribute("data-bound");
  if (bound) {
    var form = document.getElementById(bound + "-form");
    var first = form && form.querySelector(".field__errors, .form-errors");
    if (form) {
      form.scrollIntoView({ block: "center" });
      var field = first && first.closest(".field");
      var control = field && field.querySelector("input, select, textarea");
      if (control) { control.focus({ preventScroll: true }); }
    }
  }
})();

// Keyboard shortcuts: j / k next / previous issue, y / n / s yes / no / skip. Served by the workspace
// itself (the page's CSP allows no inline script); every action also works without this file.
"use strict";
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
                 target.isContentEditable)) return;
  var element = document.querySelector('[data-key="' + event.key + '"]');
  if (!element) return;
  event.preventDefault();
  if (element.tagName === "FORM") element.requestSubmit(); else element.click();
});

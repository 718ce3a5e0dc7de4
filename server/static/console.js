// Sổ Tay console: the pages work without this script; it only keeps a
// slow form (an import, a revocation) from being sent twice, and gives a
// receipt its print button.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.sent === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  var button = form.querySelector("button[data-busy]");
  if (button) {
    button.textContent = button.dataset.busy;
    button.setAttribute("aria-busy", "true");
  }
});
// A page restored from the back/forward cache gets its forms back.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-sent]").forEach(function (f) {
    delete f.dataset.sent;
  });
});
// A button that prints the page (a receipt).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

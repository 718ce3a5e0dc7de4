// Sổ Tay console: the pages work without this script; it only keeps a
// slow form (an import, a revocation) from being sent twice, gives a
// receipt its print button, and keeps a batch's cash to hand over up to
// date as records are ticked to be left out.
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
// A batch's cash to hand over, less the records ticked to be excluded.
document.addEventListener("change", function (event) {
  if (!event.target.matches("input[name=exclude]")) {
    return;
  }
  var figure = document.getElementById("cash-expected-figure");
  if (!figure) {
    return;
  }
  var total = 0;
  document.querySelectorAll("tr[data-cash]").forEach(function (row) {
    var box = row.querySelector("input[name=exclude]");
    if (!box || !box.checked) {
      total += parseInt(row.dataset.cash, 10);
    }
  });
  var digits = String(Math.abs(total)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  figure.textContent = (total < 0 ? "-" : "") + digits + " \u20ab";
});

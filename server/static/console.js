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
    button.dataset.idle = button.textContent;
    button.textContent = button.dataset.busy;
    button.setAttribute("aria-busy", "true");
  }
});
// A page restored from the back/forward cache: a confirmation is loaded
// again (what it was to confirm may be done by now, and says so); other
// pages get their forms back.
window.addEventListener("pageshow", function (event) {
  if (event.persisted && document.querySelector("form[data-fresh-on-back]")) {
    location.reload();
    return;
  }
  document.querySelectorAll("form[data-sent]").forEach(function (f) {
    delete f.dataset.sent;
    var button = f.querySelector("button[aria-busy]");
    if (button) {
      button.textContent = button.dataset.idle;
      button.removeAttribute("aria-busy");
    }
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
  var due = document.getElementById("cash-due");
  var owed = document.getElementById("cash-owed");
  if (!due || !owed) {
    return;
  }
  var total = 0;
  var ticked = false;
  document.querySelectorAll("tr[data-cash]").forEach(function (row) {
    var box = row.querySelector("input[name=exclude]");
    if (!box || !box.checked) {
      total += parseInt(row.dataset.cash, 10);
    }
  });
  var takenBack = 0;
  document.querySelectorAll("tr[data-cash]").forEach(function (row) {
    var box = row.querySelector("input[name=exclude]");
    var cash = parseInt(row.dataset.cash, 10);
    if (cash < 0 && (!box || !box.checked)) {
      takenBack -= cash;
    }
  });
  document.querySelectorAll("input[name=exclude]").forEach(function (box) {
    ticked = ticked || box.checked;
  });
  // Below zero the branch owes the officer: the other sentence, the
  // amount without a sign.
  var digits = String(Math.abs(total)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  due.hidden = total < 0;
  owed.hidden = total >= 0;
  document.getElementById(total < 0 ? "cash-owed-figure" : "cash-expected-figure")
    .textContent = digits + " \u20ab";
  document.getElementById("cash-ticked-note").hidden = !ticked;
  document.getElementById("cash-taken-back-note").hidden = takenBack === 0;
  document.getElementById("cash-taken-back-figure").textContent =
    String(takenBack).replace(/\B(?=(\d{3})+(?!\d))/g, ".") + " \u20ab";
});

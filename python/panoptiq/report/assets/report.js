// panoptiq report: sortable tables and the worst-image tabs. No external resources.
"use strict";
(function () {
  function sortTable(table, th) {
    const index = Array.prototype.indexOf.call(th.parentNode.children, th);
    const numeric = th.dataset.type === "num";
    const ascending = !th.classList.contains("asc");
    for (const other of th.parentNode.children) other.classList.remove("asc", "desc");
    th.classList.add(ascending ? "asc" : "desc");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = a.cells[index].dataset.v, y = b.cells[index].dataset.v;
      const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    for (const row of rows) body.appendChild(row);
  }
  for (const table of document.querySelectorAll("table.sortable")) {
    for (const th of table.tHead.rows[0].cells) {
      if (th.classList.contains("sortable")) th.addEventListener("click", function () { sortTable(table, th); });
    }
  }
  for (const tabs of document.querySelectorAll(".tabs")) {
    const buttons = tabs.querySelectorAll("button");
    for (const button of buttons) {
      button.addEventListener("click", function () {
        for (const b of buttons) {
          b.classList.toggle("on", b === button);
          document.getElementById(b.dataset.panel).classList.toggle("hidden", b !== button);
        }
      });
    }
  }
  document.body.dataset.ready = "1";
})();

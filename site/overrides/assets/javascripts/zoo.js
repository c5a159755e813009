// Zoo tables in the browser: click a header to sort (numbers as numbers, "—" and "not run" last),
// type in the box above a table to keep only the rows that contain the text.
(function () {
  function key(cell) {
    var text = cell.textContent.trim();
    var n = parseFloat(text.replace(/[+,]/g, ""));
    return isNaN(n) || !/^[-+]?\d/.test(text) ? { n: null, s: text.toLowerCase() } : { n: n, s: text };
  }
  function compare(a, b) {
    if (a.n !== null && b.n !== null) return a.n - b.n;
    if (a.n !== null) return -1;
    if (b.n !== null) return 1;
    return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  }
  function sortBy(table, th, index) {
    var body = table.tBodies[0];
    var dir = th.getAttribute("data-sort") === "asc" ? "desc" : "asc";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-sort"); });
    th.setAttribute("data-sort", dir);
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = key(r1.cells[index]), b = key(r2.cells[index]);
      var c = compare(a, b);
      if (a.n === null || b.n === null) return c;  // blanks stay last either way
      return dir === "asc" ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function enhance(table) {
    if (table.dataset.zoo || !table.tHead || !table.tBodies.length) return;
    table.dataset.zoo = "1";
    table.tHead.querySelectorAll("th").forEach(function (th, i) {
      th.addEventListener("click", function () { sortBy(table, th, i); });
    });
    if (table.tBodies[0].rows.length < 4) return;
    var box = document.createElement("input");
    box.type = "search";
    box.className = "zoo-filter";
    box.placeholder = document.documentElement.lang.indexOf("zh") === 0 ? "筛选行…" : "Filter rows…";
    box.addEventListener("input", function () {
      var q = box.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
      });
    });
    var holder = table.closest(".md-typeset__scrollwrap") || table;
    holder.parentNode.insertBefore(box, holder);
  }
  function run() { document.querySelectorAll(".md-typeset table").forEach(enhance); }
  if (window.document$) { window.document$.subscribe(run); } else { document.addEventListener("DOMContentLoaded", run); }
})();

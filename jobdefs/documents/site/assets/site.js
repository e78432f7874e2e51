/* Search, sorting and filtering: everything a page says is there without this script.
   No fetch, no modules, no workers, so that it runs from file:// too; it writes text with
   textContent only, never HTML. */
(function () {
  "use strict";
  // In site.html, the whole site in one file, each page is a section whose ids start
  // with the page's: "p-index--search-box" (jobdefs.documents.site.single_file).
  var single = document.documentElement.hasAttribute("data-single-file");
  function byId(page, id) { return document.getElementById(single ? "p-" + page + "--" + id : id); }
  function words(text) { return text.toLowerCase().split(/\s+/).filter(Boolean); }

  function setUpSearch() {
    var section = byId("index", "search");
    var box = byId("index", "search-box");
    var index = window.jobdefsSearch;
    if (!section || !box || !index) return;
    section.hidden = false;
    var entries = index.entries.map(function (e) {
      return { kind: e[0], href: e[1], title: e[2], where: e[3], text: e[4],
               hay: (e[2] + " " + e[3] + " " + e[4]).toLowerCase() };
    });
    var status = byId("index", "search-status");
    var list = byId("index", "search-results");
    var most = 50;
    function snippet(entry, first) {
      var low = entry.text.toLowerCase(), at = low.indexOf(first);
      if (at < 0) return entry.text.slice(0, 140);
      var start = Math.max(0, at - 60), end = Math.min(entry.text.length, at + first.length + 80);
      return (start > 0 ? "\u2026" : "") + entry.text.slice(start, end) + (end < entry.text.length ? "\u2026" : "");
    }
    function marked(parent, text, query) {
      var low = text.toLowerCase(), i = 0;
      while (i < text.length) {
        var best = -1, size = 0;
        query.forEach(function (q) {
          var at = low.indexOf(q, i);
          if (at >= 0 && (best < 0 || at < best)) { best = at; size = q.length; }
        });
        if (best < 0) { parent.appendChild(document.createTextNode(text.slice(i))); break; }
        parent.appendChild(document.createTextNode(text.slice(i, best)));
        var mark = document.createElement("mark");
        mark.textContent = text.slice(best, best + size);
        parent.appendChild(mark);
        i = best + size;
      }
    }
    function run() {
      var query = words(box.value);
      while (list.firstChild) list.removeChild(list.firstChild);
      if (!query.length) { status.textContent = ""; return; }
      var found = entries.filter(function (e) {
        return query.every(function (q) { return e.hay.indexOf(q) >= 0; });
      });
      status.textContent = found.length === 0 ? "Nothing found." :
        (found.length > most ? "The first " + most + " of " + found.length + " results." :
         found.length + (found.length === 1 ? " result." : " results."));
      found.slice(0, most).forEach(function (e) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = e.href;
        marked(link, e.title, query);
        item.appendChild(link);
        var kind = document.createElement("span");
        kind.className = "kind";
        kind.textContent = " \u2014 " + e.kind + (e.where ? ", " + e.where : "");
        item.appendChild(kind);
        var text = document.createElement("span");
        text.className = "snippet";
        marked(text, snippet(e, query[0]), query);
        item.appendChild(text);
        list.appendChild(item);
      });
    }
    box.addEventListener("input", run);
    // index.html?q=words opens with those words searched for: a link to a search.
    var asked = /[?&]q=([^&#]*)/.exec(location.search);
    if (asked) box.value = decodeURIComponent(asked[1].replace(/\+/g, " "));
    if (box.value) run();
  }

  function setUpSorting() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      var heads = table.tHead ? table.tHead.rows[0].cells : [];
      Array.prototype.forEach.call(heads, function (th, column) {
        var button = document.createElement("button");
        button.type = "button";
        while (th.firstChild) button.appendChild(th.firstChild);
        th.appendChild(button);
        button.addEventListener("click", function () {
          var down = th.getAttribute("aria-sort") === "ascending";
          Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", down ? "descending" : "ascending");
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = a.cells[column].textContent, y = b.cells[column].textContent;
            var order = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
            return down ? -order : order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  }

  function setUpMatrixFilter() {
    var holder = byId("matrix", "matrix-filter");
    var table = byId("matrix", "matrix");
    if (!holder || !table) return;
    holder.hidden = false;
    var box = byId("matrix", "matrix-filter-box");
    box.addEventListener("input", function () {
      var query = box.value.toLowerCase().trim();
      var heads = table.tHead.rows[0].cells;
      var keep = [];
      for (var i = 1; i < heads.length; i++) {
        keep[i] = !query || heads[i].textContent.toLowerCase().indexOf(query) >= 0;
        heads[i].classList.toggle("hidden-by-filter", !keep[i]);
      }
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var shown = !query || row.cells[0].textContent.toLowerCase().indexOf(query) >= 0;
        row.classList.toggle("hidden-by-filter", !shown);
        for (var j = 1; j < row.cells.length; j++) {
          row.cells[j].classList.toggle("hidden-by-filter", !keep[j]);
        }
      });
    });
  }

  // The matrix's counts link to the pair's drill-down: the row department's page, at the
  // column department's section (made here, to keep a large matrix small on disk).
  function setUpMatrixLinks() {
    var table = byId("matrix", "matrix");
    if (!table) return;
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var page = row.cells[0].querySelector("a");
      if (!page) return;
      for (var j = 1; j < row.cells.length; j++) {
        var cell = row.cells[j], text = cell.textContent;
        if (!text) continue;
        var link = document.createElement("a");
        link.href = page.getAttribute("href") + (single ? "--" : "#") + heads[j].getAttribute("data-anchor");
        link.textContent = text;
        cell.textContent = "";
        cell.appendChild(link);
      }
    });
  }

  setUpSearch();
  setUpMatrixLinks();
  setUpSorting();
  setUpMatrixFilter();
})();

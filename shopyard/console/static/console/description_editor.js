/* Toolbar for the description textareas: wraps the selection in HTML tags or
   inserts one of the product's uploaded images. Without JavaScript the
   toolbar stays hidden and the textarea takes HTML as typed. */
(function () {
  "use strict";
  function insert(area, before, after) {
    var start = area.selectionStart, end = area.selectionEnd, value = area.value;
    var inner = value.slice(start, end);
    area.value = value.slice(0, start) + before + inner + after + value.slice(end);
    area.focus();
    area.setSelectionRange(start + before.length, start + before.length + inner.length);
  }
  document.querySelectorAll("[data-description-editor] .rte-toolbar").forEach(function (bar) {
    var area = document.getElementById(bar.getAttribute("aria-controls"));
    if (!area) { return; }
    bar.hidden = false;
    bar.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      if (button.dataset.wrap) {
        insert(area, "<" + button.dataset.wrap + ">", "</" + button.dataset.wrap + ">");
      } else if (button.dataset.list) {
        var start = area.selectionStart, end = area.selectionEnd;
        var lines = area.value.slice(start, end).split("\n").filter(function (l) { return l.trim(); });
        var items = (lines.length ? lines : [""]).map(function (l) { return "  <li>" + l + "</li>"; }).join("\n");
        area.setRangeText("<" + button.dataset.list + ">\n" + items + "\n</" + button.dataset.list + ">", start, end, "end");
        area.focus();
      }
    });
    var select = bar.querySelector("[data-insert-image]");
    if (select) {
      select.addEventListener("change", function () {
        if (!select.value) { return; }
        var img = document.createElement("img");
        img.src = select.value;
        img.alt = "";
        area.setRangeText("<p>" + img.outerHTML + "</p>", area.selectionStart, area.selectionEnd, "end");
        select.value = "";
        area.focus();
      });
    }
  });
})();

/* Product editor enhancements; the page works without them (the buttons
   submit to the server). Drag images to reorder them (saved at once through
   the whole-order form); "apply to all" fills the rows without a round trip. */
document.addEventListener("DOMContentLoaded", function () {
  var list = document.querySelector("[data-sortable-images]");
  var orderForm = document.querySelector("[data-image-order]");
  if (list && orderForm) {
    var dragged = null;
    list.querySelectorAll("li[data-image-id]").forEach(function (item) {
      item.draggable = true;
      item.addEventListener("dragstart", function (event) {
        dragged = item;
        event.dataTransfer.effectAllowed = "move";
        item.classList.add("is-dragging");
      });
      item.addEventListener("dragend", function () { item.classList.remove("is-dragging"); });
      item.addEventListener("dragover", function (event) { event.preventDefault(); });
      item.addEventListener("drop", function (event) {
        event.preventDefault();
        if (!dragged || dragged === item) { return; }
        var items = Array.prototype.slice.call(list.children);
        var before = items.indexOf(dragged) > items.indexOf(item) ? item : item.nextSibling;
        list.insertBefore(dragged, before);
        orderForm.querySelectorAll("input[name=image_ids]").forEach(function (input) { input.remove(); });
        list.querySelectorAll("li[data-image-id]").forEach(function (li) {
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = "image_ids";
          input.value = li.getAttribute("data-image-id");
          orderForm.appendChild(input);
        });
        orderForm.submit();
      });
    });
  }

  var apply = document.querySelector("[data-apply-all]");
  if (apply) {
    apply.addEventListener("click", function (event) {
      var price = document.getElementById("f-default-price").value.trim();
      var stock = document.getElementById("f-default-stock").value.trim();
      if (!price && !stock) { return; } // let the server say what is missing
      event.preventDefault();
      if (price) { document.querySelectorAll("[data-sku-price]").forEach(function (input) { input.value = price; }); }
      if (stock) { document.querySelectorAll("[data-sku-stock]").forEach(function (input) { input.value = stock; }); }
    });
  }
});

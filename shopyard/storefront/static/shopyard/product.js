/* Product page option picker: a progressive enhancement of the option links.
   Without JavaScript each option is a link (?opt=attr:option) that the server
   renders with that SKU selected. With it, a click updates the selection in
   place from the matrix the server embedded (#sku-matrix).
   An option sold out with the other choices is disabled: no link, and a click
   on it changes nothing. An option no SKU pairs with the other choices stays
   a link: choosing it starts a new choice from that option. */
(function () {
  "use strict";
  var node = document.getElementById("sku-matrix");
  var picker = document.querySelector("[data-sku-picker]");
  if (!node || !picker) { return; }
  var data = JSON.parse(node.textContent);
  var attrIds = data.attributes.map(function (a) { return a.id; });
  var chosen = {};
  picker.querySelectorAll(".option-chip.is-selected").forEach(function (el) {
    chosen[el.dataset.attr] = Number(el.dataset.option);
  });

  function matches(sku, wanted) {
    return attrIds.every(function (a, i) {
      return wanted[a] === undefined || wanted[a] === sku.options[i];
    });
  }

  function stateOf(attrId, optId) {
    var wanted = Object.assign({}, chosen);
    wanted[attrId] = optId;
    var hits = data.skus.filter(function (s) { return matches(s, wanted); });
    if (hits.some(function (s) { return s.stock > 0; })) { return "available"; }
    return hits.length ? "sold_out" : "missing";
  }

  // the no-JavaScript link of an option, as the server builds it
  function linkOf(attrId, optId, state) {
    var wanted = state === "missing" ? {} : Object.assign({}, chosen);
    wanted[attrId] = optId;
    return "?" + attrIds.filter(function (a) { return wanted[a] !== undefined; }).map(function (a) {
      return "opt=" + encodeURIComponent(a + ":" + wanted[a]);
    }).join("&");
  }

  function setText(selector, text) {
    document.querySelectorAll(selector).forEach(function (el) { el.textContent = text; });
  }

  function render() {
    var sku = data.skus.filter(function (s) { return matches(s, chosen); })[0];
    picker.querySelectorAll(".option-chip").forEach(function (el) {
      var attr = el.dataset.attr, opt = Number(el.dataset.option);
      var state = stateOf(attr, opt);
      var selected = chosen[attr] === opt;
      el.classList.toggle("is-selected", selected);
      el.classList.toggle("is-disabled", state === "sold_out");
      el.classList.toggle("is-missing", state === "missing");
      if (selected) { el.setAttribute("aria-current", "true"); } else { el.removeAttribute("aria-current"); }
      if (state === "sold_out") {
        el.removeAttribute("href");
        el.removeAttribute("rel");
        el.setAttribute("role", "link");
        el.setAttribute("aria-disabled", "true");
      } else {
        el.href = linkOf(attr, opt, state);
        el.rel = "nofollow";
        el.removeAttribute("role");
        el.removeAttribute("aria-disabled");
      }
      el.dataset.state = state;
      var note = el.querySelector(".option-state");
      if (note) { note.textContent = data.labels[state] ? " (" + data.labels[state] + ")" : ""; }
    });
    if (!sku) { return; }
    var input = document.querySelector("[data-sku-input]");
    if (input) { input.value = sku.id; }
    setText("[data-sku-price]", sku.price);
    document.querySelectorAll("[data-sku-list-price]").forEach(function (el) {
      el.hidden = !sku.list_price;
      var value = el.querySelector("[data-list-price-value]");
      if (value) { value.textContent = sku.list_price; }
    });
    document.querySelectorAll("[data-sku-price-note]").forEach(function (el) {
      el.hidden = !sku.price_note;
      el.textContent = sku.price_note;
    });
    setText("[data-sku-stock]", sku.stock_text);
    setText("[data-sku-code]", sku.code);
    setText("[data-sku-name]", sku.name);
    var picture = document.querySelector("[data-sku-image]");
    if (picture) {
      picture.hidden = !sku.image;
      if (sku.image) { picture.src = sku.image; picture.alt = sku.name; }
    }
    var slide = sku.slide && document.getElementById(sku.slide);
    if (slide) { slide.parentNode.scrollTo({left: slide.offsetLeft - slide.parentNode.offsetLeft, behavior: "smooth"}); }
    var button = document.querySelector("[data-add-button]");
    if (button) {
      button.disabled = sku.stock <= 0;
      button.textContent = sku.stock > 0 ? data.labels.add : data.labels.out;
    }
    var buyNow = document.querySelector("[data-buy-now-button]");
    if (buyNow) { buyNow.hidden = sku.stock <= 0; }
    var group = document.querySelector("[data-group-button]");
    if (group) {
      group.hidden = sku.stock <= 0 || !sku.group;
      group.textContent = sku.group || "";
    }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "?sku=" + sku.id);
    }
  }

  picker.addEventListener("click", function (event) {
    var el = event.target.closest(".option-chip");
    if (!el || !el.dataset.attr) { return; }
    event.preventDefault();
    if (el.getAttribute("aria-disabled") === "true") { return; }
    var attr = el.dataset.attr, opt = Number(el.dataset.option);
    if (stateOf(attr, opt) === "missing") {
      // start over from this option: keep only the choices that still fit
      chosen = {};
    }
    chosen[attr] = opt;
    var fits = data.skus.filter(function (s) { return matches(s, chosen); });
    var best = fits.filter(function (s) { return s.stock > 0; })[0] || fits[0];
    if (best) {
      attrIds.forEach(function (a, i) { chosen[a] = best.options[i]; });
    }
    render();
  });
})();

// Report form enhancements (progressive: the form works without this file).
// - "Lägg till händelse" / "Ta bort händelsen" change the blocks in the page instead of a round trip.
// - "Använd min position" fills the map point from the phone's location.
(function () {
  "use strict";

  var form = document.querySelector("[data-report-form]");
  if (!form) { return; }

  var NAME = /incidents-\d+-/g;

  function blocks() { return form.querySelectorAll("[data-incident]"); }

  function nextIndex() {
    var max = -1;
    form.querySelectorAll("[name^='incidents-']").forEach(function (el) {
      var m = /^incidents-(\d+)-/.exec(el.name);
      if (m) { max = Math.max(max, parseInt(m[1], 10)); }
    });
    return max + 1;
  }

  function renumber() {
    var all = blocks();
    var template = form.getAttribute("data-legend") || "";
    all.forEach(function (block, i) {
      var legend = block.querySelector("[data-incident-legend]");
      if (legend && template) { legend.textContent = template.replace("{n}", String(i + 1)); }
      var remove = block.querySelector("[data-remove-incident]");
      if (remove) { remove.hidden = all.length < 2; }
    });
    var add = form.querySelector("[data-add-incident]");
    var max = parseInt(form.getAttribute("data-max") || "20", 10);
    if (add) { add.hidden = all.length >= max; }
  }

  function clearBlock(block, index) {
    var prefix = "incidents-" + index + "-";
    block.querySelectorAll("[id],[name],[for],[aria-describedby]").forEach(function (el) {
      ["id", "name", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(NAME, prefix)); }
      });
    });
    block.querySelectorAll(".errors").forEach(function (el) { el.remove(); });
    block.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    block.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    block.querySelectorAll("[aria-describedby]").forEach(function (el) {
      var kept = el.getAttribute("aria-describedby").split(/\s+/).filter(function (id) { return !/-err$/.test(id); });
      if (kept.length) { el.setAttribute("aria-describedby", kept.join(" ")); } else { el.removeAttribute("aria-describedby"); }
    });
    block.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.type === "radio") {
        el.checked = el.value === "public";
      } else if (el.type === "datetime-local" && /occurred_at$/.test(el.name)) {
        // keep the previous block's time: incidents of one shift are usually close together
      } else if (el.tagName === "SELECT") {
        el.selectedIndex = 0;
      } else if (el.type !== "hidden" && el.type !== "submit" && el.type !== "button") {
        el.value = "";
      }
    });
    var remove = block.querySelector("[data-remove-incident]");
    if (remove) { remove.value = "remove-" + index; }
    block.querySelectorAll("[data-locate-status]").forEach(function (el) { el.textContent = ""; });
    var details = block.querySelector("details");
    if (details) { details.open = false; }
  }

  function ensureRemoveButton(block) {
    if (block.querySelector("[data-remove-incident]")) { return; }
    var source = form.querySelector("[data-remove-incident]");
    var button = document.createElement("button");
    button.type = "submit";
    button.name = "action";
    button.className = "link";
    button.setAttribute("data-remove-incident", "");
    button.setAttribute("formnovalidate", "");
    button.textContent = source ? source.textContent : form.getAttribute("data-remove") || "×";
    block.appendChild(button);
  }

  form.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target) { return; }
    if (target.hasAttribute("data-add-incident")) {
      var all = blocks();
      var last = all[all.length - 1];
      if (all.length >= parseInt(form.getAttribute("data-max") || "20", 10)) { event.preventDefault(); return; }
      if (!last || !form.getAttribute("data-legend")) { return; } // let the server add the block
      event.preventDefault();
      var copy = last.cloneNode(true);
      var index = nextIndex();
      ensureRemoveButton(copy);
      all.forEach(ensureRemoveButton);
      clearBlock(copy, index);
      last.parentNode.insertBefore(copy, last.nextSibling);
      renumber();
      var first = copy.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    } else if (target.hasAttribute("data-remove-incident")) {
      if (blocks().length < 2) { return; }
      event.preventDefault();
      target.closest("[data-incident]").remove();
      renumber();
      var add = form.querySelector("[data-add-incident]");
      if (add) { add.focus(); }
    } else if (target.hasAttribute("data-locate")) {
      event.preventDefault();
      locate(target);
    }
  });

  function locate(button) {
    var block = button.closest("[data-point]");
    var status = block.querySelector("[data-locate-status]");
    var lat = block.querySelector("input[name$='latitude']");
    var lon = block.querySelector("input[name$='longitude']");
    status.textContent = form.getAttribute("data-locating") || "";
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(5);
      lon.value = pos.coords.longitude.toFixed(5);
      status.textContent = "";
    }, function () {
      status.textContent = form.getAttribute("data-locate-failed") || "";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  function addLocateButtons() {
    if (!("geolocation" in navigator)) { return; }
    form.querySelectorAll("[data-point]").forEach(function (block) {
      if (block.querySelector("[data-locate]")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.setAttribute("data-locate", "");
      button.textContent = form.getAttribute("data-locate-label") || "";
      var status = document.createElement("span");
      status.className = "hint";
      status.setAttribute("data-locate-status", "");
      status.setAttribute("role", "status");
      block.appendChild(button);
      block.appendChild(status);
    });
  }

  addLocateButtons();
  renumber();
}());

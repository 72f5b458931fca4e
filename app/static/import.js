// Progress bar of a running CSV import: polls the status JSON and reloads the page when the job ends.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.getAttribute("data-running") !== "true") { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("import-bar");
  var processed = document.getElementById("import-processed");
  var total = document.getElementById("import-total");

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { window.setTimeout(poll, 5000); return; }
        if (state.total) { bar.max = state.total; total.textContent = state.total; }
        bar.value = state.processed;
        processed.textContent = state.processed;
        if (state.status === "queued" || state.status === "running") {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 500);
}());

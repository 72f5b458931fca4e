// Upload progress for case documents: the form is sent with XMLHttpRequest so the bar can show the bytes
// sent; the answer (the document list with a message per file, or the form with its errors) replaces the page.
(function () {
  "use strict";
  var form = document.getElementById("document-upload");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.DOMParser) { return; }
  var box = form.querySelector(".upload-progress");
  var bar = document.getElementById("upload-bar");
  var percent = document.getElementById("upload-percent");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("action") || window.location.href);
    box.hidden = false;
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var value = Math.round(100 * e.loaded / e.total);
        bar.value = value;
        percent.textContent = value + " %";
      }
    });
    request.addEventListener("load", function () {
      var page = new DOMParser().parseFromString(request.responseText, "text/html");
      document.title = page.title;
      document.body.replaceWith(page.body);
      if (request.responseURL) { window.history.replaceState(null, "", request.responseURL); }
      window.scrollTo(0, 0);
    });
    request.addEventListener("error", function () {
      percent.textContent = box.getAttribute("data-failed") || "!";
    });
    request.send(new FormData(form));
  });
}());

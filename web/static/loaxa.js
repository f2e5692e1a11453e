// loaxa admin: a little plain JavaScript. Pages work without it; it adds the live spoken
// preview (debounced) and confirmation prompts on dangerous buttons.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');

  function preview(box, text, language) {
    var url = box.getAttribute("data-preview-url");
    if (!text.trim()) { box.textContent = "—"; return; }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.content : "" },
      body: JSON.stringify({ text: text, language: language || "vi" })
    }).then(function (r) { return r.json(); }).then(function (data) {
      box.textContent = data.error ? data.error : data.spoken;
      box.classList.toggle("stale", false);
    }).catch(function () {
      box.textContent = "Không lấy được bản đọc thử. Kiểm tra kết nối rồi gõ tiếp.";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("spoken");
    if (box) {
      var source = document.querySelector("[data-preview-source]");
      var lang = document.querySelector("[data-preview-language]");
      if (source) {
        var timer = null;
        var schedule = function () {
          box.classList.add("stale");
          clearTimeout(timer);
          timer = setTimeout(function () { preview(box, source.value, lang ? lang.value : "vi"); }, 400);
        };
        source.addEventListener("input", schedule);
        if (lang) { lang.addEventListener("change", schedule); }
        preview(box, source.value, lang ? lang.value : "vi");
      } else if (box.hasAttribute("data-preview-text")) {
        preview(box, box.getAttribute("data-preview-text"), box.getAttribute("data-preview-lang"));
      }
    }
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();

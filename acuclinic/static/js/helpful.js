// "Was this helpful?" without a page reload. Without JavaScript the same form posts and redirects.
(function () {
  "use strict";
  document.querySelectorAll("[data-helpful-form]").forEach(function (form) {
    var pressed = null;
    form.addEventListener("click", function (event) {
      if (event.target.name === "helpful") pressed = event.target.value;
    });
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !pressed) return;
      event.preventDefault();
      var data = new FormData(form);
      data.set("helpful", pressed);
      var status = form.querySelector("[data-helpful-status]");
      fetch(form.action, { method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json().then(function (body) { return { ok: response.ok && body.ok }; }); })
        .then(function (result) {
          if (result.ok) {
            var thanks = document.createElement("p");
            thanks.className = "helpful__thanks";
            thanks.setAttribute("role", "status");
            thanks.textContent = "Thank you for your feedback.";
            form.replaceWith(thanks);
          } else {
            status.textContent = "Sorry, your feedback was not sent. Please try again.";
          }
        })
        .catch(function () { status.textContent = "Sorry, your feedback was not sent. Please check your connection and try again."; });
    });
  });
})();

// Folds on a phone what stands open on a desk: the header's menu and the long sections of a
// case page (<details data-fold-narrow open>). Without this script everything stays open.
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 50rem)");
  function fold() {
    document.querySelectorAll("details[data-fold-narrow]").forEach(function (details) {
      details.open = !narrow.matches;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fold);
  } else {
    fold();
  }
  narrow.addEventListener("change", fold);
})();

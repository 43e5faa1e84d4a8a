// Filters of the cleaner report: show only the documents that have a line of a checked kind
// (removed, removed by the model, kept near the threshold) and dim the other lines.
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll("#filters input"));
  var docs = Array.prototype.slice.call(document.querySelectorAll(".doc"));
  var shown = document.getElementById("shown");
  function apply() {
    var on = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    var body = document.body;
    body.className = on.map(function (f) { return "f-" + f; }).join(" ");
    if (on.length) { body.classList.add("filtering"); }
    var count = 0;
    docs.forEach(function (doc) {
      var flags = doc.getAttribute("data-flags");
      var hit = !on.length || on.some(function (f) { return flags.indexOf(f) >= 0; });
      doc.hidden = !hit;
      if (hit) { count += 1; }
    });
    shown.textContent = on.length ? count + " of " + docs.length + " documents" : "";
  }
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  apply();
})();

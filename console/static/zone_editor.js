// The camera page's work-zone editor: click the frame to add the polygon's corners (frame fractions,
// 0..1); the text field stays the source of truth and is what the form submits.
(function () {
  "use strict";
  var box = document.getElementById("zone-editor");
  var field = document.getElementById("work-zone");
  if (!box || !field) return;
  var svg = box.querySelector("svg");
  var NS = "http://www.w3.org/2000/svg";
  box.hidden = false;
  svg.style.cssText = "width:100%;max-width:640px;aspect-ratio:16/9;display:block;background:#1f2933;cursor:crosshair;border-radius:4px";

  function read() {
    try {
      var points = JSON.parse(field.value || "[]");
      return Array.isArray(points) ? points.filter(function (p) {
        return Array.isArray(p) && p.length === 2 && typeof p[0] === "number" && typeof p[1] === "number";
      }) : [];
    } catch (e) {
      return [];
    }
  }

  function draw() {
    var points = read();
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var frame = svg.getAttribute("data-frame");
    if (frame) {
      // The camera's latest alarm frame, stretched to the box so that fractions map onto it.
      var image = document.createElementNS(NS, "image");
      image.setAttribute("href", frame);
      image.setAttribute("width", "1");
      image.setAttribute("height", "1");
      image.setAttribute("preserveAspectRatio", "none");
      svg.appendChild(image);
    }
    var shape = document.createElementNS(NS, points.length >= 3 ? "polygon" : "polyline");
    shape.setAttribute("points", points.map(function (p) { return p[0] + "," + p[1]; }).join(" "));
    shape.setAttribute("fill", "rgba(255,209,102,0.25)");
    shape.setAttribute("stroke", "#ffd166");
    shape.setAttribute("stroke-width", "0.004");
    svg.appendChild(shape);
    points.forEach(function (p) {
      var dot = document.createElementNS(NS, "circle");
      dot.setAttribute("cx", p[0]);
      dot.setAttribute("cy", p[1]);
      dot.setAttribute("r", "0.008");
      dot.setAttribute("fill", "#ffd166");
      svg.appendChild(dot);
    });
  }

  function write(points) {
    field.value = points.length ? JSON.stringify(points) : "";
    draw();
  }

  svg.addEventListener("click", function (event) {
    var rect = svg.getBoundingClientRect();
    var round = function (v) { return Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000; };
    var points = read();
    points.push([round((event.clientX - rect.left) / rect.width), round((event.clientY - rect.top) / rect.height)]);
    write(points);
  });
  box.addEventListener("click", function (event) {
    var action = event.target.getAttribute && event.target.getAttribute("data-zone");
    if (action === "undo") write(read().slice(0, -1));
    if (action === "clear") write([]);
  });
  field.addEventListener("input", draw);
  draw();
})();

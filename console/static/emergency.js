// The incident map: the base map (the city's tiles when configured, otherwise the vector base map
// shipped with the project), the incident and the nearest resources of its plan. A resource's popup
// holds the same one-click dispatch form as the table. Server text goes in with textContent only.
(function () {
  var holder = document.getElementById("incident-map");
  var configNode = document.getElementById("incident-map-config");
  if (!holder || !configNode || typeof L === "undefined") { return; }
  var config = JSON.parse(configNode.textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var map = L.map(holder).setView(config.center, 13);
  var dispatched = {};
  config.dispatched.forEach(function (code) { dispatched[code] = true; });

  function label(catalog, value) { return (config.labels[catalog] || {})[value] || value; }
  function line(parent, text, tag) {
    var node = document.createElement(tag || "div");
    node.textContent = text;
    parent.appendChild(node);
    return node;
  }
  function text(value) { var node = document.createElement("span"); node.textContent = value; return node; }
  function dispatchForm(code) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = config.dispatch_url;
    [["csrf_token", csrf]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden"; input.name = pair[0]; input.value = pair[1];
      form.appendChild(input);
    });
    var button = document.createElement("button");
    button.type = "submit"; button.name = "resource"; button.value = code;
    button.textContent = "一键调度";
    button.setAttribute("data-resource", code);
    form.appendChild(button);
    return form;
  }
  function resourcePopup(props) {
    var box = document.createElement("div");
    box.className = "resource-popup";
    line(box, props.name, "strong");
    line(box, label("resource_kind", props.resource_kind) + " · " + label("capability", props.capability));
    line(box, "距离 " + (props.distance_m / 1000).toFixed(1) + " 公里");
    if (dispatched[props.code]) {
      line(box, "已调度", "em");
    } else if (config.dispatch_url) {
      box.appendChild(dispatchForm(props.code));
    }
    return box;
  }

  WenlingBasemap.add(map, config);
  var layer = L.geoJSON(config.features, {
    pointToLayer: function (f, at) {
      if (f.properties.kind === "incident") {
        return L.circleMarker(at, { radius: 11, color: "#c81e1e", weight: 3, fillOpacity: 0.6, className: "incident-marker" });
      }
      var done = dispatched[f.properties.code];
      return L.circleMarker(at, { radius: 8, color: done ? "#2e9e5b" : "#0b5cad", weight: 2, fillOpacity: 0.5, className: "resource-marker" });
    },
    onEachFeature: function (f, l) {
      if (f.properties.kind === "incident") {
        l.bindTooltip(text("事发地点 " + f.properties.code));
      } else {
        l.bindTooltip(text(f.properties.name));
        l.bindPopup(function () { return resourcePopup(f.properties); });
      }
    }
  }).addTo(map);
  if (config.features.features.length > 1) { map.fitBounds(layer.getBounds(), { padding: [30, 30] }); }
  holder.setAttribute("data-resources", String(config.features.features.filter(function (f) {
    return f.properties.kind === "resource";
  }).length));
})();

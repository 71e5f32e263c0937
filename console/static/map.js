// The alarm map: the city's tile server when configured, otherwise the vector base map shipped with
// the project (town outlines and roads), then the GeoJSON layers. Text from the server is put into the
// page with textContent only, never as HTML.
(function () {
  var holder = document.getElementById("map");
  var configNode = document.getElementById("map-config");
  if (!holder || !configNode || typeof L === "undefined") { return; }
  var config = JSON.parse(configNode.textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var map = L.map(holder, { preferCanvas: false }).setView(config.center, 12);
  var colours = { info: "#2e9e5b", warning: "#d4a017", major: "#e07b00", critical: "#c81e1e" };

  function label(catalog, value) { return (config.labels[catalog] || {})[value] || value; }
  function line(parent, text, tag) {
    var node = document.createElement(tag || "div");
    node.textContent = text;
    parent.appendChild(node);
    return node;
  }
  // Leaflet puts string content in as HTML: hand it elements built with textContent instead.
  function text(value) { var node = document.createElement("span"); node.textContent = value; return node; }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(url + " " + r.status); }
      return r.json();
    });
  }
  function alarmPopup(props) {
    var box = document.createElement("div");
    box.className = "alarm-popup";
    line(box, "告警 #" + props.alarm_id + " · " + label("severity", props.severity), "strong");
    line(box, label("alarm_type", props.alarm_type));
    line(box, "工地 " + props.site_code + " · " + label("alarm_state", props.state));
    if (props.state === "raised") {
      var form = document.createElement("form");
      form.method = "post";
      form.action = "/console/alarms/" + encodeURIComponent(props.alarm_id) + "/acknowledge?from=list";
      var token = document.createElement("input");
      token.type = "hidden"; token.name = "csrf_token"; token.value = csrf;
      form.appendChild(token);
      var button = document.createElement("button");
      button.type = "submit"; button.textContent = "确认告警";
      button.setAttribute("data-alarm", String(props.alarm_id));
      form.appendChild(button);
      box.appendChild(form);
    }
    return box;
  }

  // The base map loads on its own schedule: its pane sits under the markers whichever arrives first.
  WenlingBasemap.add(map, config);
  // Alarms always sit above the site dots they are raised at, so they stay clickable.
  map.createPane("alarms");
  map.getPane("alarms").style.zIndex = 450;
  var overlays = {};
  var control = L.control.layers(null, overlays).addTo(map);
  getJSON(config.layers.sites).then(function (data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (f, at) { return L.circleMarker(at, { radius: 5, color: "#0b5cad", weight: 1 }); },
      onEachFeature: function (f, l) { l.bindTooltip(text(f.properties.code + " " + f.properties.name)); }
    }).addTo(map);
    control.addOverlay(layer, "工地");
  });
  getJSON(config.layers.active_alarms).then(function (data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (f, at) {
        return L.circleMarker(at, { pane: "alarms", radius: 9, color: colours[f.properties.severity] || "#c81e1e", weight: 3, fillOpacity: 0.5, className: "alarm-marker" });
      },
      onEachFeature: function (f, l) { l.bindPopup(function () { return alarmPopup(f.properties); }); }
    }).addTo(map);
    control.addOverlay(layer, "未关闭告警");
    holder.setAttribute("data-alarms", String(data.features.length));
  });
  getJSON(config.layers.open_complaints).then(function (data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (f, at) { return L.circleMarker(at, { radius: 5, color: "#7c3aed", weight: 1 }); },
      onEachFeature: function (f, l) { l.bindTooltip(text(f.properties.ticket_no + " " + label("complaint_state", f.properties.state))); }
    });
    control.addOverlay(layer, "未办结投诉");
  });
  // Off until ticked in the layer control: the alarm map stays readable.
  getJSON(config.layers.cameras).then(function (data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (f, at) { return L.circleMarker(at, { radius: 4, color: "#334e68", weight: 2, fillOpacity: 0.2 }); },
      onEachFeature: function (f, l) { l.bindTooltip(text("摄像头 " + f.properties.code + " " + f.properties.name + (f.properties.enabled ? "" : "（已停用）"))); }
    });
    control.addOverlay(layer, "摄像头");
  });
  getJSON(config.layers.emergency_resources).then(function (data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (f, at) { return L.circleMarker(at, { radius: 6, color: "#0f766e", weight: 2, fillOpacity: 0.3 }); },
      onEachFeature: function (f, l) { l.bindTooltip(text(label("resource_kind", f.properties.kind) + " " + f.properties.name)); }
    });
    control.addOverlay(layer, "应急资源");
  });
})();

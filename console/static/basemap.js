// The console maps' base layer, shared by the alarm map and the emergency board: the city's tile
// server when configured, otherwise the vector base map shipped with the project (town outlines and
// roads), in a pane of its own under every marker. Names go in with textContent only.
(function () {
  function text(value) { var node = document.createElement("span"); node.textContent = value; return node; }

  function add(map, config) {
    map.createPane("basemap");
    map.getPane("basemap").style.zIndex = 350;
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { maxZoom: 18, pane: "basemap" }).addTo(map);
      return;
    }
    fetch(config.basemap_url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("basemap " + r.status); }
      return r.json();
    }).then(function (data) {
      L.geoJSON(data, {
        pane: "basemap",
        style: function (f) {
          return f.properties.kind === "road"
            ? { color: "#8a8f98", weight: f.properties.major ? 4 : 2 }
            : { color: "#5b7c99", weight: 1, fillColor: "#e9eef2", fillOpacity: 0.6 };
        },
        onEachFeature: function (f, layer) {
          if (f.properties.name) { layer.bindTooltip(text(f.properties.name), { sticky: true }); }
        }
      }).addTo(map);
    });
  }

  window.WenlingBasemap = { add: add };
})();

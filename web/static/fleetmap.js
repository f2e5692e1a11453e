// Bản đồ: draws the stations the page embedded (#fleet-data) with the vendored Leaflet. With a tile
// URL (LOAXA_MAP_TILES) they sit on a map; without one, on a plain coordinate plot labelled with the
// communes' names. Popups are built from DOM nodes, never from HTML strings.
(function () {
  "use strict";
  var MANY = 500;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function popup(s) {
    var box = el("div", "fleet-popup");
    if (!s.contacts) {  // the dot's own data, until the details arrive
      box.appendChild(el("strong", null, s.code + " · " + s.state_label));
      box.appendChild(el("div", null, s.name));
      box.appendChild(el("div", "muted", "Đang tải…"));
      return box;
    }
    var head = el("div", "fleet-popup-head");
    var link = el("a", null, s.code);
    link.href = s.url;
    head.appendChild(link);
    head.appendChild(el("span", "badge st-badge-" + s.state, s.state_label));
    box.appendChild(head);
    box.appendChild(el("div", null, s.name));
    box.appendChild(el("div", "muted", s.commune + (s.area ? " · " + s.area : "")));
    var facts = el("dl", "fleet-facts");
    function fact(label, value) {
      facts.appendChild(el("dt", null, label));
      facts.appendChild(el("dd", null, value));
    }
    fact("Đang phát", s.playing || "không");
    fact("Hôm nay", s.today);
    s.contacts.forEach(function (c) { fact(c[0], c[1]); });
    box.appendChild(facts);
    return box;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.getElementById("fleet-map");
    var source = document.getElementById("fleet-data");
    if (!holder || !source || !window.L) { return; }
    var data = JSON.parse(source.textContent);
    var tiles = holder.getAttribute("data-tiles");
    var detailsUrl = holder.getAttribute("data-details");
    // Narrow enough to sit beside the zoom buttons on a 390 px phone.
    var popupWidth = Math.max(180, Math.min(280, holder.clientWidth - 110));
    // The colours live once, in loaxa.css: read them off the legend's swatches.
    var colours = {};
    Array.prototype.forEach.call(document.querySelectorAll("[data-swatch]"), function (swatch) {
      colours[swatch.getAttribute("data-swatch")] = getComputedStyle(swatch).backgroundColor;
    });
    // Thousands of SVG dots make a phone crawl: draw big fleets on one canvas.
    var many = data.stations.length > MANY;
    var map = L.map(holder, { zoomSnap: 0.25, attributionControl: !!tiles, preferCanvas: many });
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: holder.getAttribute("data-attribution") || "" }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);
    // The view first: Leaflet creates a marker's element only once the map has one.
    var points = data.stations.map(function (s) { return [s.lat, s.lon]; });
    if (points.length) {
      map.fitBounds(L.latLngBounds(points).pad(0.2), { maxZoom: 14 });
    } else {
      map.setView([16.0, 107.5], 5);  // Việt Nam, when no station in view has coordinates
    }
    if (!tiles) {
      data.communes.forEach(function (c) {
        var label = L.marker([c.lat, c.lon], {
          interactive: false, keyboard: false,
          icon: L.divIcon({ className: "commune-label", html: "", iconSize: null })
        }).addTo(map);
        label.getElement().textContent = c.name;
      });
    }
    data.stations.forEach(function (s) {
      var marker = L.circleMarker([s.lat, s.lon], {
        radius: many ? 6 : 9, weight: many ? 1 : 2, color: "#fff", fillColor: colours[s.state] || "#555",
        fillOpacity: 0.9, className: "station-dot st-" + s.state
      });
      // Padding on the left keeps the popup clear of the zoom buttons.
      marker.bindPopup(popup(s), { maxWidth: popupWidth, autoPanPaddingTopLeft: [48, 12], autoPanPaddingBottomRight: [12, 12] });
      marker.on("popupopen", function () {
        fetch(detailsUrl.replace("CODE", encodeURIComponent(s.code)), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (d) { marker.setPopupContent(d.error ? el("div", null, d.error) : popup(d)); })
          .catch(function () { marker.setPopupContent(el("div", null, "Không tải được thông tin đài. Thử lại sau.")); });
      });
      marker.bindTooltip(s.code + " · " + s.state_label);
      marker.addTo(map);
      if (!many) { marker.getElement().setAttribute("data-code", s.code); }
    });
    holder.setAttribute("data-ready", String(points.length));
  });
})();

"""Looking back: after-action reports, CSV and GeoJSON exports, the map, and the audit chain
that seals the timeline."""

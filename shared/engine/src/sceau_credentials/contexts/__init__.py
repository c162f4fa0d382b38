"""JSON-LD contexts bundled with Sceau (data only; see SOURCES.md and manifest.json)."""

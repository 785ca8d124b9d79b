"""The real implementations the lab runs beside its own server, one module or folder each."""

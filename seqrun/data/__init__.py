"""Dataset adapters: one module per data source. Each adapter turns its config into splits."""

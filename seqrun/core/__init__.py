"""Core: configuration, registry, run store and helpers every layer may use."""

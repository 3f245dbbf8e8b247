"""Event-sourced aggregates: one per module, with its events and rules."""

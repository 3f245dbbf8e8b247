"""The read side: projections follow the notification log and keep read-model tables."""

"""What district analysts read: the event stream (`stream`, `cloudevents`)."""

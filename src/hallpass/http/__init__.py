"""The HTTP edge: Starlette app factory, one module per resource, templates and static files."""

"""One module per resource: each declares its paths on a ``Router`` that ``api.handler`` includes."""

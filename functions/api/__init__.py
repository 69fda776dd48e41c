"""The API function: ``handler`` (the entry point) and the application it routes to.

- ``routes/``: one module per resource, each a powertools ``Router`` the handler includes on the first request for
  one of its paths (``routes.ROUTERS``; ``meta``: /health and the OpenAPI document);
- ``views/``: what is rendered from the data: the overview figures the summary, /metrics and the dashboard share,
  the dashboard page and its trend chart;
- ``web/``: HTTP plumbing: authentication, conditional GETs, the error shape, paging tokens, the OpenAPI document.

``deps`` and ``schemas`` stay beside the handler: routes and views both use them, and neither is HTTP plumbing.
``deps`` hands out the settings, the config and the store (the one place that creates a client; the OpenAPI
document reads the config through it too); ``schemas`` holds the response models, the contract the routes return and
the OpenAPI document is generated from.
"""

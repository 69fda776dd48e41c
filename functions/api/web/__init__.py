"""HTTP plumbing shared by every route: authentication, caching, errors, paging and the OpenAPI document."""

"""The registry's HTTP routers: the public read-only API and the operator (governance) API."""

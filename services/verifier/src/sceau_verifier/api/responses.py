"""The error answers the verifier's routes document in OpenAPI (all problem details)."""

from __future__ import annotations

from typing import Any

__all__ = ["API_ERRORS", "PAGE_ERRORS", "SHARE_ERRORS"]

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}

API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be read (not JSON, not UTF-8, nested too deeply)."}
    | _PROBLEM,
    413: {"description": "The body is larger than the limit."} | _PROBLEM,
    415: {"description": "Unsupported media type."} | _PROBLEM,
    422: {"description": "The body is readable but not a credential or presentation."} | _PROBLEM,
    429: {"description": "Too many requests from this client; see Retry-After."} | _PROBLEM,
}

#: The page answers unreadable input with HTML; parameter and limit errors are problems.
PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Nothing to verify or unreadable input (HTML), bad multipart (problem)."}
    | {"content": {"application/problem+json": {}, "text/html": {}}},
    413: API_ERRORS[413],
    422: {"description": "Invalid parameters, or not a credential (problem or HTML)."}
    | {"content": {"application/problem+json": {}, "text/html": {}}},
    429: API_ERRORS[429],
}

#: A share link's refusals: pages for browsers, problem details for JSON clients.
SHARE_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}, "application/ld+json": {}, "application/jwt": {}}},
    404: {"description": "No share has this link."}
    | {"content": {"application/problem+json": {}, "text/html": {}}},
    410: {"description": "The learner withdrew the share, or it expired (`reason`)."}
    | {"content": {"application/problem+json": {}, "text/html": {}}},
    422: {"description": "Invalid parameters (problem)."} | _PROBLEM,
    429: API_ERRORS[429],
    503: {"description": "The issuer, which keeps share links, did not answer."}
    | {"content": {"application/problem+json": {}, "text/html": {}}},
}

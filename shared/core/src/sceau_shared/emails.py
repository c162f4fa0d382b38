"""An e-mail address field that checks each distinct address once per process.

pydantic's ``EmailStr`` runs the ``email-validator`` package's full syntax check (Unicode and
IDNA rules) every time a model is built, and one learner's address is checked several times on
its way through the issuer: in the request, in the ``NotificationRequestedV1`` built from it, and
again when the issuer's own contact-index consumer reads that event back (issue 19: 5 % of the
issuer's main process in a batch went to these checks). :data:`EmailAddress` is the same check —
pydantic's own ``validate_email``, same normalised value, same errors, same JSON Schema (``string``,
``format: email``) — with the answers for valid addresses remembered in a bounded cache (a pure
function of the text: nothing else can change its answer). Invalid ones are checked every time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic.networks import validate_email
from pydantic_core import CoreSchema, core_schema

__all__ = ["REMEMBERED_ADDRESSES", "EmailAddress", "normalized_email"]

REMEMBERED_ADDRESSES = 16_384
"""Valid addresses whose check is remembered (about 2 MiB at most; a whole batch of 10,000 fits)."""


@lru_cache(maxsize=REMEMBERED_ADDRESSES)
def normalized_email(value: str) -> str:
    """The address as ``EmailStr`` gives it back; raises pydantic's error when it is invalid."""
    return validate_email(value)[1]


class _CheckedOnce:
    """The pydantic hooks of :data:`EmailAddress` (an annotation, never instantiated)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        del source, handler
        return core_schema.no_info_after_validator_function(
            normalized_email, core_schema.str_schema()
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        field_schema = handler(schema)
        field_schema.update(type="string", format="email")
        return field_schema


EmailAddress = Annotated[str, _CheckedOnce]
"""An e-mail address, checked and normalised as pydantic's ``EmailStr`` does."""

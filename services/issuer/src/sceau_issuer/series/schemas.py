"""Series definitions."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sceau_credentials.ob3.authoring import LangMap


class SeriesStructure(StrEnum):
    """How components combine (field requirement A.12)."""

    PROGRESSIVE = "progressive"
    MODULAR = "modular"
    HYBRID = "hybrid"


class Component(BaseModel):
    """One achievement of the series; electives only count in hybrid series."""

    model_config = ConfigDict(extra="forbid")

    achievement_id: str = Field(min_length=1, max_length=64)
    required: bool = True


class SeriesInput(BaseModel):
    """A series and the overall achievement it leads to."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": {"fr": "Parcours IA", "en": "AI pathway"},
                    "structure": "modular",
                    "components": [
                        {"achievement_id": "m1"},
                        {"achievement_id": "m2"},
                        {"achievement_id": "m3"},
                    ],
                    "overall_achievement_id": "overall",
                }
            ]
        },
    )

    name: LangMap
    structure: SeriesStructure = SeriesStructure.MODULAR
    components: list[Component] = Field(min_length=1, max_length=100)
    electives_required: int = Field(default=0, ge=0, le=100)
    overall_achievement_id: str = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _check(self) -> Self:
        ids = [c.achievement_id for c in self.components]
        if len(set(ids)) != len(ids):
            raise ValueError("a component appears twice")
        if self.overall_achievement_id in ids:
            raise ValueError("the overall achievement cannot be one of its components")
        electives = sum(1 for c in self.components if not c.required)
        if self.electives_required > electives:
            raise ValueError("electives_required exceeds the number of elective components")
        if self.structure != SeriesStructure.HYBRID and electives:
            raise ValueError("only hybrid series have elective components")
        return self


def complete(series: SeriesInput, held: set[str]) -> bool:
    """Whether holding ``held`` achievements completes the series."""
    required = {c.achievement_id for c in series.components if c.required}
    electives = {c.achievement_id for c in series.components if not c.required}
    return required <= held and len(electives & held) >= series.electives_required

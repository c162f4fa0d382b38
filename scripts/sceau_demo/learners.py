"""The cohort: made-up bilingual learners and how many modules each completed.

The split (about 70 % complete the series, the rest one or two modules) is deterministic, so the
story's counts can be checked exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES = [
    "Amélie", "Benoît", "Chloé", "Dominic", "Élodie", "Félix", "Gabrielle", "Hugo", "Isabelle",
    "Jonathan", "Karine", "Laurent", "Mélissa", "Nicolas", "Olivia", "Patrick", "Rosalie",
    "Samuel", "Tania", "Vincent", "Wendy", "Xavier", "Yasmine", "Zoé",
]  # fmt: skip
LAST_NAMES = [
    "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin",
    "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron", "Leblanc", "Smith",
    "Nguyen", "Martin", "Wilson",
]  # fmt: skip


@dataclass(frozen=True)
class Learner:
    """One member of the cohort and how many modules they completed."""

    number: int
    name: str
    email: str
    language: str
    modules_completed: int

    def recipient(self) -> dict[str, str]:
        """The batch API's recipient object."""
        return {"email": self.email, "name": self.name, "language": self.language}


def cohort(size: int, run_id: str) -> list[Learner]:
    """A cohort where about 70 % complete the series, the others one or two modules."""
    complete = size * 7 // 10
    two = (size - complete) // 2
    learners = []
    for i in range(size):
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i * 7) % len(LAST_NAMES)]
        ascii_name = (
            f"{first}.{last}".lower()
            .translate(str.maketrans("éèêëàâîïôöûüç", "eeeeaaiioouuc"))
            .replace(" ", "")
        )
        done = 3 if i < complete else 2 if i < complete + two else 1
        learners.append(
            Learner(
                number=i + 1,
                name=f"{first} {last}",
                email=f"{ascii_name}.{i + 1:02d}.{run_id}@etu.riviere-erables.example",
                language="en" if i % 3 == 2 else "fr",
                modules_completed=done,
            )
        )
    return learners

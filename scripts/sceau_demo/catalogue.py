"""What the college offers: the series "Enseigner avec l'IA / Teaching with AI".

Three bilingual 5-hour MicroCredential modules aligned to a (demo) competency framework, and an
overall credential that gathers their competencies; and, outside the series, a graded capstone
with a badge image (the sharing scene's credential). The bodies are what the issuer's
``POST /v1/achievements`` accepts.
"""

from __future__ import annotations

from typing import Any

from sceau_demo.badge import badge_data_url

FRAMEWORK = {
    "fr": "Cadre de compétences numériques en enseignement (démo)",
    "en": "Digital Teaching Competency Framework (demo)",
}
FRAMEWORK_URL = "https://competences.example.org/enseignement-numerique"
QUALITY = [
    {
        "id": "https://riviere-erables.example/qualite",
        "name": {
            "fr": "Comité des programmes et de la qualité",
            "en": "Programs and Quality Board",
        },
    }
]


def _competency(code: str, fr: str, en: str, skill: str = "technical") -> dict[str, Any]:
    """One competency of the demo framework, in the shape the achievement API takes."""
    return {
        "name": {"fr": fr, "en": en},
        "url": f"{FRAMEWORK_URL}/{code.lower()}",
        "framework": FRAMEWORK,
        "code": code,
        "skill_type": skill,
    }


MODULES: list[dict[str, Any]] = [
    {
        "key": "module-1",
        "name": {"fr": "Comprendre l'IA générative", "en": "Understanding generative AI"},
        "description": {
            "fr": "Expliquer le fonctionnement, les forces et les limites des modèles génératifs.",
            "en": "Explain how generative models work, their strengths and their limits.",
        },
        "criteria": {
            "fr": "Réussir le questionnaire et l'analyse critique d'un cas réel.",
            "en": "Pass the quiz and the critical analysis of a real case.",
        },
        "competencies": [
            _competency("ENS-IA-1", "Expliquer le fonctionnement de l'IA", "Explain how AI works"),
            _competency(
                "ENS-IA-2",
                "Évaluer la fiabilité d'un contenu généré",
                "Assess the reliability of generated content",
                "non-technical",
            ),
        ],
        "assessment": ("quiz", {"fr": "Questionnaire et étude de cas", "en": "Quiz and case"}),
    },
    {
        "key": "module-2",
        "name": {
            "fr": "Concevoir des activités d'apprentissage avec l'IA",
            "en": "Designing learning activities with AI",
        },
        "description": {
            "fr": "Concevoir et animer des activités qui intègrent des outils d'IA.",
            "en": "Design and lead learning activities that integrate AI tools.",
        },
        "criteria": {
            "fr": "Concevoir une séquence d'activités et la mettre à l'essai en classe.",
            "en": "Design a sequence of activities and try it out in class.",
        },
        "competencies": [
            _competency(
                "ENS-IA-3",
                "Concevoir une activité intégrant l'IA",
                "Design an activity that integrates AI",
            ),
        ],
        "assessment": ("project", {"fr": "Projet de séquence", "en": "Sequence project"}),
    },
    {
        "key": "module-3",
        "name": {"fr": "Évaluer à l'ère de l'IA", "en": "Assessment in the age of AI"},
        "description": {
            "fr": "Adapter l'évaluation et l'intégrité académique à la présence de l'IA.",
            "en": "Adapt assessment and academic integrity to the presence of AI.",
        },
        "criteria": {
            "fr": "Remanier une évaluation existante et justifier les choix.",
            "en": "Redesign an existing assessment and justify the choices.",
        },
        "competencies": [
            _competency(
                "ENS-IA-4",
                "Adapter l'évaluation à l'IA",
                "Adapt assessment to AI",
                "non-technical",
            ),
            _competency(
                "ENS-IA-5",
                "Promouvoir un usage éthique de l'IA",
                "Promote the ethical use of AI",
                "non-technical",
            ),
        ],
        "assessment": ("portfolio", {"fr": "Portfolio d'évaluation", "en": "Assessment portfolio"}),
    },
]
OVERALL_NAME = {"fr": "Enseigner avec l'IA", "en": "Teaching with AI"}


def achievement_body(
    name: dict[str, str],
    description: dict[str, str],
    criteria: dict[str, str],
    competencies: list[dict[str, Any]],
    assessments: list[dict[str, Any]],
    hours: float,
    modules: int,
) -> dict[str, Any]:
    """A bilingual MicroCredential definition the issuer can publish."""
    return {
        "achievement_type": "MicroCredential",
        "default_language": "fr",
        "name": name,
        "description": description,
        "criteria": criteria,
        "competencies": competencies,
        "hours": hours,
        "modules": modules,
        "delivery_mode": "online",
        "pacing": "cohort",
        "assessments": assessments,
        "instruction_languages": ["fr", "en"],
        "credit_status": "non-credit",
        "quality_assurance": QUALITY,
        "tags": ["IA", "AI", "pédagogie", "teaching"],
    }


def module_bodies() -> list[dict[str, Any]]:
    """The three 5-hour modules."""
    bodies = []
    for number, module in enumerate(MODULES, start=1):
        method, label = module["assessment"]
        bodies.append(
            achievement_body(
                {
                    "fr": f"Enseigner avec l'IA — module {number} : {module['name']['fr']}",
                    "en": f"Teaching with AI — module {number}: {module['name']['en']}",
                },
                module["description"],
                module["criteria"],
                module["competencies"],
                [{"method": method, "name": label}],
                hours=5,
                modules=1,
            )
        )
    return bodies


def overall_body() -> dict[str, Any]:
    """The overall credential: all three modules' competencies, 15 hours."""
    return achievement_body(
        OVERALL_NAME,
        {
            "fr": "A complété les trois modules de la série « Enseigner avec l'IA ».",
            "en": 'Completed the three modules of the "Teaching with AI" series.',
        },
        {
            "fr": "Obtenir les trois micro-titres de la série.",
            "en": "Earn the three micro-credentials of the series.",
        },
        [c for module in MODULES for c in module["competencies"]],
        [{"method": "portfolio", "name": {"fr": "Trois modules réussis", "en": "Three modules"}}],
        hours=15,
        modules=3,
    )


CAPSTONE_NAME = {
    "fr": "Projet intégrateur — Enseigner avec l'IA",
    "en": "Capstone project — Teaching with AI",
}
#: The grade the capstone credential carries (the learner hides it when sharing).
CAPSTONE_GRADE = "A (92/100)"


def capstone_body() -> dict[str, Any]:
    """A graded 10-hour capstone outside the series, with a badge image the issuer can bake.

    The batch API issues without grades, so the sharing scene uses this credential, issued on its
    own with the learner's grade, to show a share link that hides it.
    """
    body = achievement_body(
        CAPSTONE_NAME,
        {
            "fr": "Concevoir, mettre à l'essai et évaluer un cours qui intègre l'IA générative.",
            "en": "Design, try out and assess a course that integrates generative AI.",
        },
        {
            "fr": "Présenter le cours conçu et son évaluation devant un jury.",
            "en": "Present the course and its assessment to a panel.",
        },
        [MODULES[1]["competencies"][0], MODULES[2]["competencies"][1]],
        [{"method": "project", "name": {"fr": "Projet évalué par un jury", "en": "Panel project"}}],
        hours=10,
        modules=1,
    )
    body["image_url"] = badge_data_url()
    body["image_caption"] = {
        "fr": "Badge du projet intégrateur : disque bleu cerclé d'or",
        "en": "Capstone badge: a blue disc in a gold ring",
    }
    return body

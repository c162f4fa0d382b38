"""Rendering of the verifier's HTML pages: one frame, the texts of one language, safe headers."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import HTMLResponse
from jinja2 import Environment

from sceau_verifier.i18n import LANGS, TEXTS, label, text
from sceau_verifier.schemas import Lang

__all__ = ["PAGE_HEADERS", "page_headers", "page_html", "render_page"]

#: Headers of every page: it never needs scripts, frames or third-party resources.
PAGE_HEADERS: Mapping[str, str] = {
    "Vary": "Accept-Language",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


#: Every text in one language, looked up as ``T['key']`` by the templates: a dictionary lookup
#: costs a fraction of a Jinja function call, and a page makes about sixty of them.
_TABLES: Mapping[str, Mapping[str, str]] = {
    lang: {key: texts[lang] for key, texts in TEXTS.items()} for lang in LANGS
}


def page_headers(lang: Lang, headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers of a page in ``lang``: :data:`PAGE_HEADERS` plus (or replaced by) ``headers``."""
    return {"Content-Language": lang, **PAGE_HEADERS, **(headers or {})}


def page_html(
    templates: Environment,
    template: str,
    lang: Lang,
    *,
    switch_href: str,
    noindex: bool = False,
    **context: object,
) -> str:
    """The markup of ``template`` in ``lang`` with the layout's values filled in.

    Templates read plain texts as ``T['key']`` and texts with values as ``t('key', n=…)``.

    Args:
        templates: the verifier's Jinja environment (autoescaping on).
        template: the page's template name.
        lang: the page's language.
        switch_href: where the language switch leads (the same page in the other language).
        noindex: add ``<meta name="robots" content="noindex">``.
        **context: the template's own values.
    """

    def t(key: str, **values: object) -> str:
        return text(key, lang, **values)

    def name_of(kind: str, value: str) -> str:
        return label(kind, value, lang)

    return templates.get_template(template).render(
        lang=lang,
        other_lang="en" if lang == "fr" else "fr",
        switch_href=switch_href,
        noindex=noindex,
        t=t,
        T=_TABLES[lang],
        label=name_of,
        texts=TEXTS,
        **context,
    )


def render_page(
    templates: Environment,
    template: str,
    lang: Lang,
    *,
    switch_href: str,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    noindex: bool = False,
    **context: object,
) -> HTMLResponse:
    """:func:`page_html` as an answer: ``status_code``, :func:`page_headers` with ``headers``."""
    html = page_html(templates, template, lang, switch_href=switch_href, noindex=noindex, **context)
    return HTMLResponse(html, status_code=status_code, headers=page_headers(lang, headers))

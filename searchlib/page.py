"""The search page of ``searchlib serve``: one server-rendered HTML page, no script, no
external assets.

The query and its filters live in the URL (``/?q=АСЕАН&filter=lang=ru&offset=10``), so a
result can be linked and the back button works; links and a form make it usable by
keyboard. Every text from a document is escaped (snippets come escaped from
:mod:`searchlib.highlight`, with only ``<em>`` added), and only http(s) sources become links.
Hits in right-to-left languages are laid out right to left.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from searchlib.index import Hit, Results

PAGE_SIZE = 10
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur", "yi", "ps", "sd", "ug", "ckb", "dv"})
LANGUAGE_NAMES = {
    "ar": "Arabic", "ru": "Russian", "no": "Norwegian", "nb": "Norwegian", "nn": "Norwegian",
    "en": "English", "de": "German", "es": "Spanish", "fr": "French", "el": "Greek",
    "tr": "Turkish", "vi": "Vietnamese", "ro": "Romanian", "hi": "Hindi", "th": "Thai",
    "zh": "Chinese", "ja": "Japanese", "fa": "Persian", "he": "Hebrew", "uk": "Ukrainian",
}  # fmt: skip
STYLE = """
:root { color-scheme: light dark; --muted: #666; --accent: #1a56c4; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; }
main { max-width: 52rem; margin: 0 auto; padding: 1rem; }
form { display: flex; gap: .5rem; margin: 1rem 0; }
input[type=search] { flex: 1; min-width: 0; font: inherit; padding: .5rem; }
button { font: inherit; padding: .5rem 1rem; }
a { color: var(--accent); }
a:focus, input:focus, button:focus { outline: 3px solid #f90; outline-offset: 2px; }
.layout { display: grid; grid-template-columns: 12rem 1fr; gap: 1.5rem; }
@media (max-width: 40rem) { .layout { grid-template-columns: 1fr; } }
.facets h2 { font-size: 1rem; margin: 1rem 0 .25rem; }
.facets ul, .active { list-style: none; padding: 0; margin: 0; }
.count, .meta { color: var(--muted); font-size: .9rem; }
ol.hits { padding: 0; list-style: none; }
.hit { margin: 0 0 1.25rem; overflow-wrap: anywhere; }
.hit h3 { font-size: 1.1rem; margin: 0; }
.hit em { font-style: normal; font-weight: bold; background: #ff05; }
.error { color: #b00; }
nav.pages { display: flex; justify-content: space-between; margin: 1rem 0; }
"""


def render(params: Mapping[str, str] | None, results: Results | None, error: str | None) -> str:
    """The page for ``params`` (the URL's query), with ``results`` or an ``error``."""
    query = params.get("q", "") if params else ""
    filters = params.getlist("filter") if params is not None and hasattr(params, "getlist") else []
    offset = _offset(params)
    parts = [
        f'<form role="search" method="get" action="/"><label for="q" hidden>Search</label>'
        f'<input id="q" name="q" type="search" value="{_e(query)}" autofocus '
        f'placeholder="Search in any language" aria-label="Search">'
        + "".join(f'<input type="hidden" name="filter" value="{_e(item)}">' for item in filters)
        + '<button type="submit">Search</button></form>'
    ]
    if filters:
        parts.append('<ul class="active" aria-label="Filters">')
        for item in filters:
            rest = [other for other in filters if other != item]
            parts.append(
                f'<li>{_e(item)} <a href="{_link(query, rest)}" aria-label="remove {_e(item)}">×</a></li>'
            )
        parts.append("</ul>")
    if error:
        parts.append(f'<p class="error" role="alert">{_e(error)}</p>')
    if results is not None:
        parts.append(_results(query, filters, offset, results))
    title = f"{query} — searchlib" if query else "searchlib"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f'<body><main><h1><a href="/">searchlib</a></h1>{"".join(parts)}</main></body></html>\n'
    )


def _results(query: str, filters: list[str], offset: int, results: Results) -> str:
    total = results.total
    first, last = offset + 1, offset + len(results)
    count = f"{first}–{last} of {total:,}" if total > len(results) and results else f"{total:,}"
    parts = [f'<p class="count" id="total">{count} document{"s" if total != 1 else ""} found</p>']
    parts.append('<div class="layout"><aside class="facets">')
    for name, counts in results.facets.items():
        if not counts:
            continue
        heading = "Language" if name == "lang" else name
        parts.append(f'<h2>{_e(heading)}</h2><ul data-facet="{_e(name)}">')
        for value, number in counts.items():
            shown = _facet_value(name, value)
            item = f"{name}={_value(value)}"
            if item in filters:
                parts.append(f'<li><strong>{_e(shown)}</strong> <span class="count">{number}</span></li>')
            else:
                href = _link(query, [*filters, item])
                parts.append(f'<li><a href="{href}">{_e(shown)}</a> <span class="count">{number}</span></li>')
        parts.append("</ul>")
    parts.append(f'</aside><section aria-label="Results"><ol class="hits" start="{first}">')
    parts.extend(_hit(hit) for hit in results)
    parts.append("</ol>")
    links = []
    if offset > 0:
        links.append(
            f'<a rel="prev" href="{_link(query, filters, max(0, offset - PAGE_SIZE))}">← Previous</a>'
        )
    if last < total:
        links.append(f'<a rel="next" href="{_link(query, filters, offset + PAGE_SIZE)}">Next →</a>')
    if links:
        parts.append(f'<nav class="pages" aria-label="Pages">{"".join(links)}</nav>')
    parts.append("</section></div>")
    return "".join(parts)


def _hit(hit: Hit) -> str:
    direction = "rtl" if hit.lang.split("-")[0].lower() in RIGHT_TO_LEFT else "ltr"
    source = hit.source if hit.source and urlsplit(hit.source).scheme in ("http", "https") else None
    title = _e(hit.title or hit.id)
    heading = f'<a href="{_e(source)}">{title}</a>' if source else title
    meta = [f'<span class="lang">{_e(LANGUAGE_NAMES.get(hit.lang, hit.lang))}</span>']
    if hit.date:
        meta.append(f'<time datetime="{hit.date.isoformat()}">{hit.date:%Y-%m-%d}</time>')
    if source:
        meta.append(f'<a href="{_e(source)}">{_e(urlsplit(source).netloc)}</a>')
    meta.extend(f"{_e(name)}: {_e(_value(value))}" for name, value in hit.fields.items())
    return (
        f'<li class="hit" lang="{_e(hit.lang)}" dir="{direction}" data-id="{_e(hit.id)}">'
        f'<h3>{heading}</h3><p class="meta">{" · ".join(meta)}</p>'
        f'<p class="snippet">{hit.snippet}</p></li>'
    )


def _link(query: str, filters: list[str], offset: int = 0) -> str:
    pairs = [("q", query), *(("filter", item) for item in filters)]
    if offset:
        pairs.append(("offset", str(offset)))
    return _e("/?" + urlencode(pairs))


def _offset(params: Mapping[str, str] | None) -> int:
    try:
        return max(0, int(params.get("offset", "0"))) if params else 0
    except ValueError:
        return 0


def _facet_value(name: str, value: object) -> str:
    if name == "lang":
        return f"{LANGUAGE_NAMES.get(str(value), str(value))} ({value})"
    return _value(value)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(_value, value))
    return str(value)


def _e(text: str) -> str:
    return html.escape(text, quote=True)

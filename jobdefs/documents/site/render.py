"""Pages to HTML bytes: jinja2 in autoescape mode, from the templates shipped with the
package, so that whatever a role file says is shown as text and runs nothing."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import jinja2

from jobdefs.documents.site.pages import Page, SitePages

HERE = Path(__file__).resolve().parent
ASSETS = ("assets/site.css", "assets/site.js")

# No network, no inline code: a page may load only the site's own script and style sheet
# (`'self'`, which also covers file://), and nothing may leave it (no form posts, no
# <base>). Inline SVG is markup, not an image fetch, so it needs nothing more.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)


# What `{{ x.name }}` finds on a dict before its keys: jinja2 looks for an attribute first,
# and the exception of each miss is most of the cost of a page's thousands of lookups.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """jinja2's, but `x.name` on a context dict reads the key at once: the same value as
    jinja2 finds, since a dict has no attribute of that name."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@functools.cache
def environment() -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals["csp"] = CONTENT_SECURITY_POLICY
    env.filters["plural"] = _plural
    return env


def _plural(count: int, word: str, many: str = "") -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def render_page(pages: SitePages, page: Page) -> bytes:
    """One page's HTML."""
    template = environment().get_template(f"{page.kind}.html")
    return template.render(pages.context(page)).encode()


@functools.cache
def asset_files() -> dict[str, bytes]:
    """The style sheet and script every page loads, by their path under site/."""
    return {path: (HERE / path).read_bytes() for path in ASSETS}


@functools.cache
def site_code_digest() -> str:
    """Changes whenever a template or an asset does: every page is then made anew."""
    hasher = hashlib.sha256()
    files = [*HERE.glob("templates/*.html"), *HERE.glob("assets/*"), *HERE.glob("*.py")]
    for path in sorted(files):
        hasher.update(path.name.encode() + b"\x1f" + path.read_bytes())
    return hasher.hexdigest()

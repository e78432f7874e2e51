"""The whole explorer as one file, site.html, for a person to e-mail: it opens from disk
with no other file, and works with JavaScript off.

Each page is the page the site renders (render.render_page): its <main> goes into a
`<section class="page" id="p-<slug>">` of one document, under one header. Every id in a
page becomes `p-<slug>--<id>`, and every link to a page of the site (or to an id on it)
becomes a link to that section (or to that id in it), so the hand-off ids stay unique and
every link leads somewhere in the file. The rewriting is a regular expression over our
own markup: jinja2 escapes `"` in every value (as `&#34;`), so `id="` and `href="` occur
only as the templates' attributes (tests/test_site_single_file.py proves it on hostile
role files).

The style sheet and the scripts are inlined, each allowed by the hash of its text in the
page's Content-Security-Policy, so the policy stays as strict as the site's. A style sheet
of `:target` rules shows one page at a time: the one a link leads to, the index when none.
A browser without `:has()` shows them all, one after another, after a list of them all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import re
from collections.abc import Mapping

from markupsafe import escape

from jobdefs.documents.site.pages import INDEX, Page, SitePages
from jobdefs.documents.site.render import HERE, asset_files
from jobdefs.documents.site.search import search_entries

STYLE = HERE / "assets" / "single-file.css"
# Above this, the build says the file is too large to e-mail: most mail services refuse
# attachments of 20 to 25 MB, and sending one adds a third (base64).
LARGE = 15_000_000

_MAIN = re.compile(r'<main id="main" tabindex="-1">\n(.*)</main>', re.S)
_HEADER = re.compile(r'<header class="site">.*?</header>\n', re.S)
_FOOTER = re.compile(r'<footer class="site">.*?</footer>\n', re.S)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
# The attributes whose values name an id of the page, or a page: in our markup a value
# never holds `"` (escaped as &#34;), so `[^"]*` is its whole value.
_ATTRIBUTE = re.compile(r' (id|for|aria-labelledby|aria-describedby|href)="([^"]*)"')

KINDS = (
    ("index", "Overview"),
    ("matrix", "Overview"),
    ("department", "Departments"),
    ("role", "Roles"),
    ("customer", "External customers"),
    ("journey", "Journeys"),
)


def anchor(path: str) -> str:
    """The id of a page's section: `roles/nurse.html` is `p-roles-nurse`. Unambiguous, as
    a page's name has only single hyphens, its folder none, and `--` starts an inner id."""
    return "p-" + path.removesuffix(".html").replace("/", "-")


class _Links:
    """Rewrites one page's ids and links into the single file's."""

    def __init__(self, paths: frozenset[str], page: str) -> None:
        self.paths = paths
        self.page = page
        self.folder = posixpath.dirname(page)
        self.prefix = anchor(page) + "--"

    def href(self, value: str) -> str:
        target, hash_sign, fragment = value.partition("#")
        if not target:
            return f"#{self.prefix}{fragment}"
        path = posixpath.normpath(posixpath.join(self.folder, target))
        if path not in self.paths:
            return value  # not a page of the site: as it was (the tests find none)
        return f"#{anchor(path)}--{fragment}" if hash_sign and fragment else f"#{anchor(path)}"

    def attribute(self, match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        if name == "href":
            made = self.href(value)
        else:  # ids, and the lists of ids that labels and descriptions name
            made = " ".join(self.prefix + part for part in value.split())
        return f' {name}="{made}"'

    def rewrite(self, markup: str) -> str:
        return _ATTRIBUTE.sub(self.attribute, markup)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _script_text(text: str) -> str:
    """A script's text that cannot end its <script> element early."""
    if "</script" in text.lower() or "<!--" in text:
        raise ValueError("an inline script may not hold </script or <!--")
    return text


def search_script(pages: SitePages) -> str:
    """The search index with links to the sections, as a script: the JSON's `<`, `>` and
    `&` as \\u escapes, so that no text of a role file can end the script."""
    entries = [[kind, f"#{anchor(href)}", *rest] for kind, href, *rest in search_entries(pages)]
    text = json.dumps({"version": 1, "entries": entries}, ensure_ascii=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.jobdefsSearch = {text};\n"


def single_file(pages: SitePages, rendered: Mapping[str, bytes]) -> bytes:
    """site.html, from every page of `pages` as the site renders it (by path under site/)."""
    order = {kind: number for number, (kind, _) in enumerate(KINDS)}
    listed = sorted(pages.pages(), key=lambda page: order[page.kind])
    paths = frozenset(page.path for page in listed)
    organization = escape(pages.organization.name)
    index = rendered[INDEX].decode()
    header_match, footer_match = _HEADER.search(index), _FOOTER.search(index)
    assert header_match is not None and footer_match is not None
    home = _Links(paths, INDEX)
    header = home.rewrite(header_match.group(0).replace(' aria-current="page"', ""))
    header = header.replace(
        "</ul>\n</nav>", '<li><a href="#contents">All pages</a></li>\n</ul>\n</nav>', 1
    )
    sections = []
    titles: dict[str, list[tuple[Page, str]]] = {}
    for page in listed:
        text = rendered[page.path].decode()
        main, title = _MAIN.search(text), _TITLE.search(text)
        assert main is not None and title is not None
        name = title.group(1).removesuffix(f" · {organization}")
        titles.setdefault(dict(KINDS)[page.kind], []).append((page, name))
        sections.append(
            f'<section class="page page-{page.kind}" id="{anchor(page.path)}">\n'
            f"{_Links(paths, page.path).rewrite(main.group(1))}</section>\n"
        )
    contents = ['<nav class="contents" id="contents" aria-labelledby="contents-heading">\n']
    contents.append('<h1 id="contents-heading">All pages</h1>\n')
    for group, entries in titles.items():
        contents.append(f'<h2>{group}</h2>\n<ul class="columns">\n')
        contents += [f'<li><a href="#{anchor(p.path)}">{name}</a></li>\n' for p, name in entries]
        contents.append("</ul>\n")
    contents.append("</nav>\n")
    style = asset_files()["assets/site.css"].decode() + STYLE.read_text(encoding="utf-8")
    if "</style" in style.lower():
        raise ValueError("the inline style sheet may not hold </style")
    scripts = [search_script(pages), _script_text(asset_files()["assets/site.js"].decode())]
    policy = (
        f"default-src 'none'; script-src {' '.join(_hash(s) for s in scripts)}; "
        f"style-src {_hash(style)}; img-src data:; base-uri 'none'; form-action 'none'"
    )
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en" data-single-file="">\n<head>\n',
            '<meta charset="utf-8">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n',
            '<meta name="referrer" content="no-referrer">\n',
            '<meta name="generator" content="jobdefs">\n',
            f"<title>{organization}</title>\n",
            f"<style>{style}</style>\n</head>\n",
            '<body class="single-file">\n<a class="skip" href="#main">Skip to the content</a>\n',
            header,
            '<main id="main" class="single" tabindex="-1">\n',
            *contents,
            *sections,
            "</main>\n",
            footer_match.group(0),
            *(f"<script>{script}</script>\n" for script in scripts),
            "</body>\n</html>\n",
        ]
    ).encode()

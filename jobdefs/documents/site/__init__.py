"""The explorer: a static site of the organization that opens from `file://` and from any
web server.

`pages` says what each page shows (plain data, and the roles it is made from), `sight`
draws a line of sight, `search` makes the search index, `render` turns pages into HTML
with jinja2 in autoescape mode (every value escaped) from the package's templates and
assets. The build decides which pages are out of date (jobdefs.build.site_plan).
"""

from jobdefs.documents.site.pages import SitePages
from jobdefs.documents.site.render import asset_files, render_page

__all__ = ["SitePages", "asset_files", "render_page"]

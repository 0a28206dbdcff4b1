"""The look both services' pages share: one base template, one stylesheet, and the Jinja2 environment that finds
them next to a service's own templates.

- pages.py: `environment(package)` (autoescaping on, undefined names are errors), `page(...)` (an HTML answer with
  headers that allow no script and no foreign resource), `stylesheet_route()` (`GET /static/allim.css`).
- humanize.py: times and durations in words, in `en` and `ko`.

No JavaScript and nothing from another origin: the pages work on a machine without network and show the same
with scripts switched off.
"""

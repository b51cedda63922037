"""The web interface of ``vpo serve`` (pages, templates, static files)."""

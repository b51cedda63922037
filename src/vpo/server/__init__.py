"""``vpo serve``: the REST API (``app``), its trust boundaries (``security``), the
service functions the endpoints call (``services``), server-sent events (``events``)
and the daemon that runs it all (``daemon``). See docs/server.md."""

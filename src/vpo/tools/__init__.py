"""The only layer that starts external processes (see shared STYLE.md §1)."""

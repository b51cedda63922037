"""Pure renderers shared by commands: data in, text, tables or JSON-ready dicts out."""

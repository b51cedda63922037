"""Click commands: parse arguments, call the layers below, format output."""

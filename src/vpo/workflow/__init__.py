"""The phases of one file: probe, evaluate, apply, verify; returns a FileResult."""

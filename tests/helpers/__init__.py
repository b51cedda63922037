"""Helpers the test files share (on ``sys.path`` through pytest's ``pythonpath``)."""

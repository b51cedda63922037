"""Executing one Plan on one file safely: choose the tool, write, verify, replace.

The promise: whatever happens, the original is either untouched or replaced by
the complete, verified output. docs/apply.md describes the exact sequence.
"""

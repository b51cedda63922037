"""Run the per-file workflow over many files: worker count, executor, progress, results."""

"""Bytes to disk: sinks, commit, part files, resume store, names, reordering, digests,
and the saved queue file."""

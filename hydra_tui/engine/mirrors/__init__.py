"""Many mirrors for one file: metalink parsing, probing each mirror, and the run that
spreads ranges over them (and checks piece hashes before a byte is written)."""

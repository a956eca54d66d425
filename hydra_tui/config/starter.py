"""The commented ``config.toml`` that ``hydra-tui config init`` writes.

Every key is present but commented out, set to its built-in value, so the file changes
nothing until the user edits it; a test uncomments every line and checks it still loads.
"""

from __future__ import annotations

__all__ = ["STARTER_CONFIG"]

STARTER_CONFIG = """\
# hydra-tui configuration. This file is yours: hydra-tui reads it and never rewrites it.
#
# Precedence, highest first: command line > --preset NAME > [defaults] > built-in.
# Keys may be spelled with - or _ (max-downloads = max_downloads).
# Sizes: "64MiB", "1G", "500K" (K, M, G and KiB, MiB, GiB are 1024-based; KB, MB, GB are
# 1000-based) or a plain number of bytes. Rates are sizes per second: "5M" or "5M/s".
# Check the result with: hydra-tui config show [--preset NAME]

[defaults]
# Connections per download: 1 to 1024, or "auto" to start small and grow while the
# throughput grows (up to 16).                                           (-t/--threads)
# threads = 8

# Folder downloads are written into; ~ is expanded.                      (-o/--output)
# output = "."

# How many downloads run at once; the others wait in the queue.    (-j/--max-downloads)
# max-downloads = 4

# Memory budget of --stream, at least 1MiB; "auto" is threads x 8MiB.    (-b/--buffer)
# buffer = "auto"

# Size of each planned range request; "auto" picks one from the file size and threads.
#                                                                          (--chunk-size)
# chunk-size = "auto"

# Bandwidth ceiling of one download, across its connections: "5M/s";
# "unlimited" (or 0) lifts a limit set in [defaults] from within a preset. (--limit-rate)
# limit-rate = "unlimited"

# Attempts per range without progress before a download fails.             (--retries)
# retries = 5

# Seconds to establish a connection.                                        (--timeout)
# timeout = 15

# Seconds without a byte before a connection counts as stalled and is restarted.
#                                                                      (--stall-timeout)
# stall-timeout = 20

# Extra request headers, as a table or a list of "Name: value" strings. A header given
# on the command line replaces one of the same name; -H "Name:" removes it.  (-H/--header)
# headers = { "X-Token" = "abc" }

# User-Agent header; "" sends hydra-tui/<version>.                       (-A/--user-agent)
# user-agent = ""

# Skip TLS certificate checks. Only for self-signed test servers.          (--insecure)
# insecure = false

# A PEM file of CA certificates to trust instead of the default roots (for a private
# CA); "" uses the defaults (or SSL_CERT_FILE).           (--ca-certificate/--cacert)
# ca-certificate = ""

# Progress without the TUI: "auto" (a bar on a terminal, plain lines otherwise),
# "plain", "jsonl" (one JSON object per line, for scripts) or "none".       (--progress)
# progress = "auto"

# No progress and no warnings on the terminal; errors and the log file are kept.
#                                                                          (-q/--quiet)
# quiet = false

# Download without the TUI, showing headless progress on stderr.              (--no-ui)
# no-ui = false

# Low-speed limit: a download under this rate for speed-time seconds has its connections
# restarted, and fails after `retries` restarts; 0 turns it off.       (--speed-limit)
# speed-limit = "1K/s"

# Seconds a download may stay under speed-limit.                          (--speed-time)
# speed-time = 60

# Save an HTML page even where it looks like an error page standing in for the file.
#                                                                        (--accept-html)
# accept-html = false

# What q does in the TUI: "detach" (the service goes on downloading; run hydra-tui to
# attach again) or "stop" (pause every download and stop the service, as Q does).
# on-quit = "detach"

# Presets bundle options under a name: hydra-tui --preset genomics URL
# `hydra-tui config save-preset NAME [options]` saves presets into presets.toml, next to
# this file; a preset defined in both files is taken from presets.toml.
#
# [presets.genomics]
# threads = 32
# output = "~/data/genomics"
# limit-rate = "50M/s"
# headers = ["Authorization: Bearer TOKEN"]
"""

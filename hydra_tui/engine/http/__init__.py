"""Talking HTTP: probe, the lean range reader, TLS, headers, redirects, error mapping."""

"""What the tests share: payloads, digests, CLI runs, raw HTTP, Pilot and backend helpers."""

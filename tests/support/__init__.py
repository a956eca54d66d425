"""What the tests share: payloads, digests, CLI runs, raw HTTP, Pilot and backend helpers,
the resume store's records and the service's commands.

Test modules import from here (and from nowhere else under ``tests``); conftest files
hold the fixtures."""

"""Deciding what to fetch when: planner, chunk map, ranges, AIMD, limits, wake-ups."""

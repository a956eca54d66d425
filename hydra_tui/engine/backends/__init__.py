"""Backends the UI drives: the protocol, in-process, thread, child process, and a fake."""

"""The engine as a per-user background service, and the faces that talk to it.

::

    hydra-tui (TUI), add/ls/pause/resume/rm/wait/stop ──(Unix socket, the pipe's messages)┐
    aria2 clients (aria2p, AriaNg, …) ──(HTTP POST /jsonrpc, off by default)──────────┤
                                                                                      ▼
                       hydra-tui daemon: one DownloadManager, its queue saved atomically

``paths`` says where the socket, lock and queue live; ``wire`` frames messages on the
socket; ``session`` answers one client; ``daemon`` runs it all; ``client`` and
``commands`` are the shell's side, ``attach`` the TUI's; ``aria2`` and ``rpc_http``
speak aria2's JSON-RPC.
"""

__all__ = ["SERVICE_COMMANDS"]

#: first words of the command line that talk to (or are) the service
SERVICE_COMMANDS = ("daemon", "add", "ls", "pause", "resume", "rm", "wait", "stop")

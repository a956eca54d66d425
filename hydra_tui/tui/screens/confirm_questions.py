"""The questions the queue asks before cancelling or removing a download (issue 20:
``c`` and ``d`` on a running download used to act at once)."""

from __future__ import annotations

from pathlib import Path

from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.tui.screens.confirm import Choice, ConfirmScreen

__all__ = ["CANCEL", "DELETE", "REMOVE", "confirm_cancel", "confirm_remove"]

#: the answers (each is also the key that picks it in the dialog)
CANCEL = "y"
REMOVE = "r"
DELETE = "D"


def confirm_cancel(name: str) -> ConfirmScreen:
    return ConfirmScreen(
        f"Cancel {name}?",
        "It stops for good; what is on disk is kept, and t (retry) resumes from it.",
        [Choice(CANCEL, "Cancel download", "error")],
    )


def confirm_remove(name: str, snap: DownloadSnapshot, *, running: bool) -> ConfirmScreen:
    """Remove (files kept), or remove and delete the files this download wrote."""
    files = _files(snap)
    intro = f"{name} is downloading. " if running else ""
    named = " and ".join(files)
    if files and running:
        text = f"{intro}Remove keeps {named}; delete files too deletes it."
    elif files:
        text = f"Deletes {named} as well."
    else:
        text = f"{intro}It has written no file yet."
    choices = [Choice(DELETE, "Delete files too", "error")]
    if running:
        choices.insert(0, Choice(REMOVE, "Remove", "warning"))
    return ConfirmScreen(f"Remove {name} from the queue?", text, choices)


def _files(snap: DownloadSnapshot) -> list[str]:
    """What deleting would remove: the ``.part`` file, and the file once it is done."""
    if snap.path is None:
        return []
    final = Path(snap.path).name
    if snap.state is DownloadState.DONE:
        return [final]
    return [f"{final}.part"]

"""Screens: the main queue view and the dialogs it opens."""

from hydra_tui.tui.screens.add_url import AddRequest, AddUrlScreen
from hydra_tui.tui.screens.confirm import Choice, ConfirmScreen
from hydra_tui.tui.screens.log import LogScreen
from hydra_tui.tui.screens.main import MainScreen
from hydra_tui.tui.screens.rate_limit import RateLimitChoice, RateLimitScreen
from hydra_tui.tui.screens.save_preset import SavePresetScreen

__all__ = [
    "AddRequest",
    "AddUrlScreen",
    "Choice",
    "ConfirmScreen",
    "LogScreen",
    "MainScreen",
    "RateLimitChoice",
    "RateLimitScreen",
    "SavePresetScreen",
]

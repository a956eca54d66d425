"""Widgets of the hydra-tui screens; each draws what it is given and queries no sibling."""

from hydra_tui.tui.widgets.chunk_grid import ChunkGrid
from hydra_tui.tui.widgets.detail_pane import DetailPane
from hydra_tui.tui.widgets.fact_list import FactList
from hydra_tui.tui.widgets.queue_table import QueueTable
from hydra_tui.tui.widgets.rate_graph import RateGraph, RateSeries

__all__ = ["ChunkGrid", "DetailPane", "FactList", "QueueTable", "RateGraph", "RateSeries"]

"""What Keras's ``EarlyStopping`` would have done on a recorded curve, as the book's chapter shows it.

Replayed with Keras 3's own rule (``min_delta=0``, no baseline, ``start_from_epoch=0``):
after each epoch the count of epochs without improvement goes up by one, back to zero
on a new best; training stops after the first epoch past the first whose count
reaches ``patience``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._i18n import _

__all__ = ["EarlyStoppingReplay", "replay_early_stopping"]


@dataclass(frozen=True)
class EarlyStoppingReplay:
    """One ``EarlyStopping(monitor, patience)`` replayed on a history.

    Attributes:
        patience: the patience replayed.
        stopped_epoch: the last epoch it would have trained (``None``: it would not have stopped).
        best_epoch: the best epoch it would have seen by then (what ``restore_best_weights`` keeps).
        kept_epoch: the epoch whose weights the run would end with without ``restore_best_weights``.
    """

    monitor: str
    patience: int
    stopped_epoch: int | None
    best_epoch: int
    kept_epoch: int

    def sentence(self, history: dict[str, list[float]], epochs: int) -> str:
        """``EarlyStopping(patience=P)`` would have stopped ... and kept ...: the numbers from ``history``."""
        call = f"EarlyStopping(monitor='{self.monitor}', patience={self.patience})"
        if self.stopped_epoch is None:
            return _(
                "{call} would not have stopped within these {epochs} epochs; with restore_best_weights=True the run "
                "would end with epoch {best}'s weights ({described})."
            ).format(call=call, epochs=epochs, best=self.best_epoch, described=_described(history, self.best_epoch))
        kept = _described(history, self.kept_epoch)
        if self.kept_epoch == self.best_epoch:
            return _(
                "{call} would have stopped after epoch {stopped}, with the weights of its best epoch, {kept}; "
                "restore_best_weights changes nothing here."
            ).format(call=call, stopped=self.stopped_epoch, kept=kept)
        return _(
            "{call} would have stopped after epoch {stopped}, keeping that epoch's weights ({kept}); with "
            "restore_best_weights=True it keeps epoch {best}'s ({described})."
        ).format(call=call, stopped=self.stopped_epoch, kept=kept, best=self.best_epoch,
                 described=_described(history, self.best_epoch))  # fmt: skip


def _described(history: dict[str, list[float]], epoch: int) -> str:
    shown = []
    for name in ("val_loss", "val_accuracy"):
        values = history.get(name)
        if values and epoch < len(values) and math.isfinite(values[epoch]):
            value = values[epoch]
            shown.append(f"{name} {value:.1%}" if name.endswith("accuracy") else f"{name} {value:.4g}")
    where = _("epoch {epoch}").format(epoch=epoch)
    return f"{where}: " + ", ".join(shown) if shown else where


def replay_early_stopping(
    values: list[float], *, patience: int, monitor: str = "val_loss", lower_is_better: bool = True
) -> EarlyStoppingReplay:
    """Replay ``EarlyStopping(monitor, patience)`` on the monitored values, one per epoch."""
    best = math.inf if lower_is_better else -math.inf
    best_epoch = 0
    wait = 0
    for epoch, value in enumerate(values):
        wait += 1
        better = value < best if lower_is_better else value > best
        if math.isfinite(value) and better:
            best, best_epoch, wait = value, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return EarlyStoppingReplay(monitor, patience, epoch, best_epoch, epoch)
    last = len(values) - 1
    return EarlyStoppingReplay(monitor, patience, None, best_epoch, last)

"""Where the decision settings in force come from, and how they are written: one answer for every command.

`validate` (C002), `match` / `preview` / `report`'s notices and the report's "Matching health" all say
whether threshold and margin are certified from this function, and print them with `settings_text`:
before, the report called the model's defaults "calibrated" while `validate` called them uncalibrated,
and `preview` printed "threshold 0.83, margin 0.04" beside a note saying 0.835 / 0.045 (issue 34).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remedy.config import Config


def setting_text(value: float) -> str:
    """A threshold or margin as every output prints it: up to three decimals (the grid's step is 0.005)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def settings_text(threshold: float, margin: float) -> str:
    return f"threshold {setting_text(threshold)}, margin {setting_text(margin)}"


@dataclass(frozen=True)
class SettingsOrigin:
    key: str  # calibrated | other-model | by-hand | model-defaults | fallback
    text: str  # the words every output uses
    certified: bool  # certified by `remedy calibrate` for the model in force

    @property
    def short(self) -> str:
        """Where uncertified settings come from, in a parenthesis (`validate`'s C002)."""
        return {"by-hand": "set by hand", "model-defaults": "the model's defaults"}.get(self.key, self.text)


def settings_origin(config: Config, embedder: Any = None) -> SettingsOrigin:
    """Where threshold and margin come from. Without `embedder` (rules that load no model), a pin in the
    config counts as calibrated: `validate`'s C001 / C003 say when it is for another model."""
    pinned = config.calibration.get("fingerprint")
    if pinned and (embedder is None or pinned == getattr(embedder, "fingerprint", None)):
        return SettingsOrigin("calibrated", "calibrated for this model by `remedy calibrate` (remedy.toml "
                                            "[calibration])", True)
    if pinned:
        return SettingsOrigin("other-model", f"calibrated for another model ({config.calibration.get('model')!r}, "
                                             f"{pinned}): calibrate again", False)
    if config.threshold is not None or config.margin is not None:
        return SettingsOrigin("by-hand", "set by hand, not calibrated", False)
    if embedder is None or getattr(embedder, "defaults", None) is not None:
        return SettingsOrigin("model-defaults", "the model's uncalibrated defaults", False)
    return SettingsOrigin("fallback", "built-in fallbacks, not calibrated", False)

"""Verbatim answers are served on settings nobody certified on this project's own queries.

The threshold and margin decide when a user gets an Expert Answer word for word. Until
`remedy calibrate --labels … --write` has chosen them from your experts' labels of your own log
queries (and pinned them to the model), they are the model's shipped defaults or numbers set by
hand: chosen for another benchmark's queries, or for none. The defaults are cautious (they aim at
95 % precision where most queries have no answer, and serve few), but only labels from your own
traffic say how precise they are here, and how much recall a certified setting could win back.

Bad (remedy.toml, with active answers in the folder):

    model = "bundled"          # no [calibration] table

Good: `remedy calibrate --sample 200 --logs LOGS --out labels.yaml`, have experts fill in
`label: yes | no`, then `remedy calibrate --labels labels.yaml --write`.
"""

from collections.abc import Iterator

from remedy.config import CONFIG_FILE
from remedy.files.folder import display_path
from remedy.matching.settings_origin import settings_origin
from remedy.problems import Problem, as_severity
from remedy.rules.context import RuleContext

CODE = "C002"
NAME = "config.uncalibrated"
SEVERITY = "warning"


def check(context: RuleContext) -> Iterator[Problem]:
    origin = settings_origin(context.config)
    if origin.certified:
        return  # calibrated; config.model-pin (C001) says when for another model
    if not any(r.kind == "answer" and r.status == "active" for r in context.folder.remediations):
        return
    config = context.config
    where = config.file if config.file is not None else config.root / CONFIG_FILE
    yield Problem(display_path(where), 1, 1, CODE, as_severity(SEVERITY),
                  f"answers are served on uncalibrated settings ({origin.short}): label a sample of your own log "
                  "queries with `remedy calibrate --sample 200 --logs LOGS --out labels.yaml`, then "
                  "`remedy calibrate --labels labels.yaml --write`")

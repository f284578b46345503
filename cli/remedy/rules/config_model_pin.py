"""The calibrated threshold was tuned for another model.

`remedy calibrate --write` records the model's name and a hash of its files next to the threshold
and margin it chose. A threshold tuned for one model means nothing for another: when the model in
use no longer has that hash, calibrate again (or restore the model).

Bad (remedy.toml, after switching `model` to an adapted folder):

    model = "models/adapted"
    threshold = 0.74
    [calibration]
    model = "bundled"
    fingerprint = "3f9a…"

Good: run `remedy calibrate --write` after changing the model.
"""

from collections.abc import Iterator

from remedy.errors import UsageError
from remedy.files.folder import display_path
from remedy.problems import Problem, as_severity
from remedy.rules.context import RuleContext

CODE = "C001"
NAME = "config.model-pin"
SEVERITY = "warning"


def check(context: RuleContext) -> Iterator[Problem]:
    pinned = context.config.calibration.get("fingerprint")
    if not pinned or context.config.file is None:
        return
    from remedy.matching.embedding import model_fingerprint, resolve_model_folder

    try:
        folder, _ = resolve_model_folder(context.config.model, context.config.root)
    except UsageError:
        return  # an unloadable model is reported when something needs it
    current = model_fingerprint(folder)
    from remedy.matching.matcher import verifier_for

    verifier, _ = verifier_for(context.config)
    if verifier is not None:
        from remedy.matching.fused import fused_fingerprint

        current = fused_fingerprint(current, verifier)
    if current != pinned:
        yield Problem(display_path(context.config.file), 1, 1, CODE, as_severity(SEVERITY),
                      f"threshold and margin were calibrated for model {context.config.calibration.get('model')!r} "
                      f"({pinned}), but the model in use is {context.config.model!r} ({current}): run "
                      "`remedy calibrate --write` again")

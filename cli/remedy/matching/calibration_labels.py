"""The calibration labels file (DESIGN 2.4): written by `calibrate --sample`, filled in by experts.

A YAML list, reviewed in git like everything else:

    # remedy calibration labels; model bundled@<fingerprint>. Fill in label: yes | no
    - query: my card still hasn't arrived
      candidate: card-arrival   # Q: Where is my new card?
      similarity: 0.71
      margin: 0.08
      label:                    # yes: the candidate is a right answer for this query; no: it is not
      correct:                  # optional: the id of the right entry, or none
      weight: 12.5              # how many log queries this label stands for (written by remedy)

`similarity` and `margin` are what the model said when the file was written (for the expert's
eye; `calibrate` scores every query again with the folder and model of the day). A row whose `label`
and `correct` are both empty is not answered yet and is left out. Every problem is reported with
the file, line and field.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from remedy.errors import InputError
from remedy.normalize import normalize_question

NOTHING = "none"  # `correct: none`: no entry is a right answer for the query
FIELDS = ("query", "candidate", "similarity", "margin", "label", "correct", "weight")
MAX_FILE_BYTES = 20_000_000
# A weight is a count of log queries: beyond these bounds the pooled sums over- or underflow (a hand-edited
# 1.0e+308 gave "labels needed: 431,999,999,997" and recall 0 instead of an error).
MIN_WEIGHT, MAX_WEIGHT = 1e-6, 1e12
_YES = {"yes", "y", "true"}
_NO = {"no", "n", "false"}


@dataclass(frozen=True)
class LabelRow:
    """One question to an expert, and the answer once given."""

    query: str
    candidate: str | None
    similarity: float | None = None
    margin: float | None = None
    label: bool | None = None  # True: the candidate is right; False: it is not; None: not answered
    correct: str | None = None  # the right entry's id, NOTHING, or None (not given)
    weight: float = 1.0
    file: str = ""
    line: int = 0

    @property
    def answered(self) -> bool:
        return self.label is not None or self.correct is not None

    def right_entries(self) -> set[str] | None:
        """The entries that are right answers, or None when the label does not say (a bare `no`)."""
        right = set()
        if self.label and self.candidate:
            right.add(self.candidate)
        if self.correct is not None and self.correct != NOTHING:
            right.add(self.correct)
        if self.label is False and self.correct is None:
            return None
        return right


def read_labels(path: Path) -> list[LabelRow]:
    """Every row of a labels file; InputError names the file, line and field of the first problem."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; not a labels file")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read labels file: {error}") from None
    return parse_labels(text, str(path))


def parse_labels(text: str, name: str) -> list[LabelRow]:
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as error:  # the reader refuses control characters before any parsing
        raise InputError(f"{name}: not valid YAML ({error})") from None
    try:
        root = loader.get_single_node()
        if root is None or (isinstance(root, yaml.ScalarNode) and loader.construct_object(root) is None):
            return []
        if not isinstance(root, yaml.SequenceNode):
            raise InputError(f"{name}:{root.start_mark.line + 1}: a labels file is a list of '- query: …' items")
        return [_row(loader, item, name) for item in root.value]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise InputError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
    finally:
        loader.dispose()


def _row(loader: yaml.SafeLoader, node: yaml.Node, name: str) -> LabelRow:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise InputError(f"{name}:{line}: each item must be a mapping with query, candidate, label, …")
    values: dict[str, tuple[Any, int]] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        key_line = key_node.start_mark.line + 1
        if key not in FIELDS:
            raise InputError(f"{name}:{key_line}: unknown field {key!r} (expected one of {', '.join(FIELDS)})")
        if key in values:
            raise InputError(f"{name}:{key_line}: field '{key}' appears twice")
        if not isinstance(value_node, yaml.ScalarNode):
            raise InputError(f"{name}:{key_line}: field '{key}' must be a single value")
        values[key] = (loader.construct_object(value_node), value_node.start_mark.line + 1)

    def fail(field: str, message: str) -> InputError:
        return InputError(f"{name}:{values.get(field, (None, line))[1]}: field '{field}' {message}")

    query = values.get("query", (None, line))[0]
    if not isinstance(query, str) or not query.strip():
        raise fail("query", "must be non-empty text")
    candidate = values.get("candidate", (None, line))[0]
    if candidate is not None and not isinstance(candidate, str):
        raise fail("candidate", "must be an entry id or empty")
    numbers: dict[str, float | None] = {}
    for field in ("similarity", "margin", "weight"):
        value = values.get(field, (None, line))[0]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value)):
            raise fail(field, f"must be a number, not {value!r}")
        numbers[field] = None if value is None else float(value)
    weight = 1.0 if numbers["weight"] is None else numbers["weight"]
    if weight <= 0:
        raise fail("weight", "must be positive")
    if not MIN_WEIGHT <= weight <= MAX_WEIGHT:  # 1e308 overflowed the pooled sums: nonsense, not an error
        raise fail("weight", f"must be between {MIN_WEIGHT:g} and {MAX_WEIGHT:g} (how many log queries the row "
                             f"stands for), not {weight:g}")
    label = _yes_no(values.get("label", (None, line))[0])
    if label == "bad":
        raise fail("label", f"must be yes or no (or empty while unanswered), not {values['label'][0]!r}")
    correct = values.get("correct", (None, line))[0]
    if correct is not None:
        if not isinstance(correct, str) or not correct.strip():
            raise fail("correct", "must be an entry id or none")
        correct = NOTHING if correct.strip().lower() == NOTHING else correct.strip()
    if label is True and candidate is None:
        raise fail("label", "is yes but the row has no candidate")
    if label is True and correct == NOTHING:
        raise fail("correct", "is none but label says the candidate is right")
    if label is False and correct is not None and correct == candidate:
        raise fail("correct", "names the candidate but label says it is not right")
    return LabelRow(query=query, candidate=candidate, similarity=numbers["similarity"], margin=numbers["margin"],
                    label=label if isinstance(label, bool) else None, correct=correct, weight=weight,
                    file=name, line=line)


def check_consistent(rows: Sequence[LabelRow]) -> None:
    """Refuse two answered rows about one query (after normalization, across files) that contradict each
    other: an entry right in one and wrong in the other, or `correct: none` against a right entry.

    Each row is separate evidence, so a contradiction would count the same query as both a right and a
    wrong match, and the bound would rest on whichever label the weights favour. The expert settles it.
    """
    seen: dict[str, list[LabelRow]] = {}
    for row in rows:
        key = normalize_question(row.query)
        for other in seen.get(key, ()):
            why = _contradiction(other, row)
            if why:
                raise InputError(f"{row.file}:{row.line}: query {row.query!r} contradicts {other.file}:{other.line}: "
                                 f"{why}; settle it in one row (or make both say the same)")
        seen.setdefault(key, []).append(row)


def _verdicts(row: LabelRow) -> tuple[set[str], set[str], bool]:
    """(entries said right, entries said wrong, `correct: none`) of an answered row."""
    right = {row.candidate} if row.label is True and row.candidate else set()
    wrong = {row.candidate} if row.label is False and row.candidate else set()
    if row.correct is not None and row.correct != NOTHING:
        right.add(row.correct)
    return right, wrong, row.correct == NOTHING


def _contradiction(first: LabelRow, second: LabelRow) -> str | None:
    right_1, wrong_1, none_1 = _verdicts(first)
    right_2, wrong_2, none_2 = _verdicts(second)
    if right_1 & wrong_2:
        return f"there {min(right_1 & wrong_2)!r} is right, here it is not"
    if right_2 & wrong_1:
        return f"there {min(right_2 & wrong_1)!r} is not right, here it is"
    if none_1 and right_2:
        return f"there no entry is right (correct: none), here {sorted(right_2)[0]!r} is"
    if none_2 and right_1:
        return f"there {sorted(right_1)[0]!r} is right, here no entry is (correct: none)"
    return None


_HEADER = "# remedy calibration labels; model "


def labels_pin(path: Path) -> str | None:
    """`model@fingerprint` from the header `calibrate --sample` wrote, or None (no header: written by hand)."""
    try:
        with path.open(encoding="utf-8") as stream:
            first = stream.readline(4096)
    except (OSError, UnicodeDecodeError):
        return None
    if not first.startswith(_HEADER):
        return None
    pin = first[len(_HEADER):].split(". Fill in", 1)[0].strip()
    return pin or None


def _yes_no(value: Any) -> bool | None | str:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
        if not word:
            return None
    return "bad"


def labels_command(files: Sequence[str | Path]) -> str:
    """`remedy calibrate --labels A B …`: every round's file after one flag, quoted for a shell."""
    import shlex

    return "remedy calibrate --labels " + " ".join(shlex.quote(str(path)) for path in files)


def render_labels(rows: Sequence[LabelRow], *, model: str, fingerprint: str, questions: dict[str, str],
                  summary: Iterable[str] = (), rounds: Sequence[str | Path] = ()) -> str:
    """The labelling file: a header that tells the expert what to do, then one item per row.

    `rounds`: every labels file of the calibration, this one included, so the command in the header
    keeps the earlier rounds' labels (naming only this file would drop them)."""
    then = labels_command(rounds) if rounds else "remedy calibrate --labels THIS_FILE"
    lines = [
        f"# remedy calibration labels; model {model}@{fingerprint}. Fill in label: yes | no",
        "# label:   yes if the candidate's answer is a right answer to serve for this query, no if it is not.",
        "# correct: optional; the id of the entry that is right instead, or none when no entry answers it.",
        "# similarity, margin: what the model said; weight: how many log queries the row stands for. Leave them.",
        f"# Then: {then} [--write]   (docs/matching.md, 'Labelling')",
        *(f"# {line}" for line in summary),
    ]
    for row in rows:
        question = questions.get(row.candidate or "", "")
        hint = f"   # Q: {_one_line(question)}" if question else ""
        lines.append(f"- query: {scalar(row.query)}")
        lines.append(f"  candidate: {scalar(row.candidate)}{hint}")
        lines.append(f"  similarity: {_number(row.similarity)}")
        lines.append(f"  margin: {_number(row.margin)}")
        lines.append(f"  label: {_label_text(row.label)}")
        lines.append(f"  correct: {scalar(row.correct) if row.correct is not None else ''}".rstrip())
        lines.append(f"  weight: {_number(row.weight)}")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def labels_hash(paths: Sequence[Path]) -> str:
    """Short sha256 over the labels files' bytes, in the order given: pins written settings to them."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def scalar(value: str | None) -> str:
    """A YAML scalar that reads back as exactly `value`: plain where that is safe, else double-quoted."""
    if value is None:
        return ""
    if value and value == value.strip() and "#" not in value and "\n" not in value:
        try:
            if yaml.safe_load(f"k: {value}") == {"k": value}:
                return value
        except yaml.YAMLError:
            pass
    dumped = yaml.safe_dump(value, default_style='"', allow_unicode=False, width=math.inf)  # type: ignore[arg-type]
    return dumped.strip().removesuffix("...").strip()


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _label_text(label: bool | None) -> str:
    return "" if label is None else ("yes" if label else "no")


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 100 else flat[:97] + "..."

"""activate / pause: only the status line (and `activated`) change; refusals leave the file untouched."""

from __future__ import annotations

import re
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remedy.files.editing import with_fields
from remedy.files.yaml_source import parse_document
from tests.conftest import write, write_answer


def test_activate_changes_only_status_and_adds_activated(repo: Path, run) -> None:
    path = write(repo / "remediations" / "answers" / "refund.yaml", """\
        # Owner: policy team
        kind: answer
        id: refund
        status: 'draft'   # keep this comment
        question: "Can I get a refund?"
        answer: |
          Yes: see https://example.com/refunds
        tags: [refunds]
        """)
    before = path.read_text(encoding="utf-8").splitlines()
    result = run("activate", "refund")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "refund: draft -> active (remediations/answers/refund.yaml)\n"
    after = path.read_text(encoding="utf-8").splitlines()
    assert after[3] == "status: 'active'   # keep this comment"
    assert re.fullmatch(r"activated: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", after[4])
    assert after[:3] + after[5:] == before[:3] + before[4:]

    result = run("pause", "refund")
    assert result.exit_code == 0
    paused = path.read_text(encoding="utf-8").splitlines()
    assert paused[3] == "status: 'paused'   # keep this comment"
    assert paused[4] == after[4], "pausing keeps the activation history"


def test_activate_is_refused_when_it_would_duplicate_an_active_question(repo: Path, run) -> None:
    write_answer(repo, "refund", "Can I get a refund?")
    draft = write_answer(repo, "refund-v2", "can i get a REFUND", status="draft")
    before = draft.read_bytes()
    result = run("activate", "refund-v2")
    assert result.exit_code == 1
    assert "refused" in result.stderr and "L001" in result.stderr and "'refund'" in result.stderr
    assert draft.read_bytes() == before


def test_activate_many_is_all_or_nothing(repo: Path, run) -> None:
    write_answer(repo, "a", "What is the baggage allowance?", status="draft")
    write_answer(repo, "b", "Can I bring my dog?", status="draft")
    write_answer(repo, "c", "can i bring my dog", status="active")
    result = run("activate", "a", "b")
    assert result.exit_code == 1
    assert "status: draft" in (repo / "remediations/answers/a.yaml").read_text()


def test_unknown_id_and_invalid_file(repo: Path, run) -> None:
    assert run("activate", "nope").exit_code == 2
    write(repo / "remediations" / "broken.yaml", "kind: answer\nid: broken\nstatus: draft\n")
    result = run("activate", "broken")
    assert result.exit_code == 1 and "fix them first" in result.stderr


def test_already_active_is_a_no_op(repo: Path, run) -> None:
    path = write_answer(repo, "a", "What is the baggage allowance?")
    before = path.read_bytes()
    result = run("activate", "a")
    assert result.exit_code == 0 and "already active" in result.stdout
    assert path.read_bytes() == before


def test_crlf_line_endings_are_kept(repo: Path, run) -> None:
    path = repo / "remediations" / "crlf.yaml"
    path.write_bytes(b"kind: answer\r\nid: crlf\r\nstatus: draft\r\nquestion: q\r\nanswer: Sure.\r\n")
    assert run("activate", "crlf").exit_code == 0
    data = path.read_bytes()
    assert b"status: active\r\nactivated: " in data and b"\n" not in data.replace(b"\r\n", b"")


# Property: whatever the comments, quoting and other fields, an edit changes only the edited lines.
_words = st.text(alphabet=string.ascii_letters + " ", min_size=1, max_size=20).map(str.strip).filter(bool)
_quote = st.sampled_from(["", "'", '"'])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=_words, quote=_quote, comment=st.booleans(), tail=st.lists(_words, max_size=3),
       has_activated=st.booleans(), status=st.sampled_from(["draft", "active", "paused"]),
       target=st.sampled_from(["draft", "active", "paused"]))
def test_status_edit_round_trip(tmp_path: Path, question: str, quote: str, comment: bool, tail: list[str],
                                has_activated: bool, status: str, target: str) -> None:
    lines = ["# header comment" if comment else "kind: answer", "kind: answer" if comment else "id: x",
             "id: x" if comment else "# mid comment", f"status: {quote}{status}{quote}" + ("  # c" if comment else ""),
             f"question: {question!r}".replace("'", '"'), "answer: |", "  Sure."]
    if has_activated:
        lines.append("activated: 2026-01-02T03:04:05Z")
    lines += [f"# {word}" for word in tail]
    text = "\n".join(lines) + "\n"
    document = parse_document(tmp_path / "x.yaml", text)
    updates = {"status": target} | ({"activated": "2026-11-23T10:00:00Z"} if target == "active" else {})
    edited = with_fields(document, updates, insert_after="status")
    reparsed = parse_document(tmp_path / "x.yaml", edited)
    assert reparsed.values["status"] == target
    old_lines, new_lines = text.splitlines(), edited.splitlines()
    changed = [line for line in new_lines if line not in old_lines]
    assert all(line.startswith(("status:", "activated:")) for line in changed)
    removed = [line for line in old_lines if line not in new_lines]
    assert all(line.startswith(("status:", "activated:")) for line in removed)
    assert {k: v for k, v in reparsed.values.items() if k not in updates} == \
        {k: v for k, v in document.values.items() if k not in updates}

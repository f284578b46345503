"""CLI start-up and `validate` speed (issue 2 targets: --help < 0.3 s; validate over 1,000 files < 1.5 s).

Also checks that --help and `validate --no-semantic` import neither DuckDB, Polars nor model2vec, and
times `validate` with the semantic rules on a cold and a warm embedding cache.
Run: python benchmarks/cli_speed.py [--files 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("duckdb", "polars", "model2vec", "torch")
TOPICS = ["refund", "baggage", "seat", "pet", "meal", "wifi", "upgrade", "visa", "delay", "lounge", "infant",
          "wheelchair", "insurance", "miles", "check-in", "boarding", "oxygen", "bike", "ski", "guitar"]
ACTIONS = ["get", "change", "cancel", "request", "book", "pay for", "add", "transfer", "claim", "check"]
CONTEXTS = ["online", "at the airport", "in the app", "for a child", "on a codeshare", "after booking",
            "for a group", "on a long-haul flight", "with miles"]


def make_folder(target: Path, count: int) -> None:
    """`count` distinct, valid answers spread over sub-folders (questions are all different)."""
    made = 0
    for topic in TOPICS:
        for action in ACTIONS:
            for context in CONTEXTS:
                if made == count:
                    return
                remediation_id = f"{action}-{topic}-{context}".replace(" ", "-")
                path = target / "answers" / topic / f"{remediation_id}.yaml"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(
                    f"kind: answer\nid: {remediation_id}\nstatus: active\n"
                    f"question: How do I {action} a {topic} {context}?\n"
                    f"answer: |\n  You can {action} a {topic} {context}. See https://example.com/{topic}\n"
                    f"also_matches:\n  - can i {action} my {topic} {context}\n  - {topic} {context}, how to {action}\n"
                    f"tags: [{topic}]\n", encoding="utf-8")
                made += 1


# beside the checkout, or two levels up for a worktree under /work/wt/
WIKI = next((root / "shared" / "data" / "clinc150" / "wiki_sents.txt" for root in (ROOT.parent, ROOT.parents[1])
             if (root / "shared" / "data" / "clinc150" / "wiki_sents.txt").is_file()),
            ROOT.parent / "shared" / "data" / "clinc150" / "wiki_sents.txt")


def make_distinct_folder(target: Path, count: int) -> bool:
    """`count` answers on unrelated topics (CLINC150's unlabelled wiki sentences), as in a real folder.

    Falls back to `make_folder` (many near-duplicate questions: a worst case) when the data is absent;
    returns whether the distinct data was used.
    """
    if not WIKI.is_file():
        make_folder(target, count)
        return False
    seen: set[str] = set()
    sentences = []
    for line in WIKI.read_text(encoding="utf-8").splitlines():
        key = " ".join(line.split()[:12]).lower()
        if len(line.split()) >= 6 and key not in seen:
            seen.add(key)
            sentences.append(line.strip())
    step = max(1, len(sentences) // count)
    for number, sentence in enumerate(sentences[::step][:count]):
        words = sentence.split()
        remediation_id = f"topic-{number:04d}"
        path = target / "answers" / f"group-{number % 20:02d}" / f"{remediation_id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        question = json.dumps(f"what about {' '.join(words[:12])}")
        paraphrase = json.dumps(f"tell me about {' '.join(words[:8])}")
        path.write_text(f"kind: answer\nid: {remediation_id}\nstatus: active\nquestion: {question}\n"
                        f"answer: See https://example.com/topics/{number}\nalso_matches:\n  - {paraphrase}\n",
                        encoding="utf-8")
    return True


def timed(command: list[str], cwd: Path, repeat: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        code = subprocess.run(command, cwd=cwd, capture_output=True, check=False).returncode
        times.append(time.perf_counter() - start)
    return statistics.median(times), code


def imported_modules(args: list[str], cwd: Path) -> list[str]:
    probe = ("import sys\nfrom remedy.commands.app import app\n"
             f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
             f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, check=False)
    marker = [line for line in result.stderr.splitlines() if line.startswith("HEAVY:")]
    return [name for name in marker[-1][len("HEAVY:"):].split(",") if name] if marker else ["(probe failed)"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    remedy = [str(Path(sys.executable).parent / "remedy")]
    figures: dict[str, object] = {}
    figures["help_seconds"], _ = timed([*remedy, "--help"], ROOT, options.repeat)
    figures["validate_demo_no_semantic_seconds"], _ = timed([*remedy, "validate", "--no-semantic"], ROOT,
                                                            options.repeat)
    figures["heavy_imports_help"] = imported_modules(["--help"], ROOT)
    figures["heavy_imports_validate_no_semantic"] = imported_modules(["validate", "--no-semantic"], ROOT)
    with tempfile.TemporaryDirectory() as temporary:
        project = Path(temporary)
        make_folder(project / "remediations", options.files)
        (project / "remedy.toml").write_text('remediations = "remediations"\n', encoding="utf-8")
        figures["files"] = options.files
        figures["validate_files_no_semantic_seconds"], code = timed([*remedy, "validate", "--no-semantic"], project,
                                                                    options.repeat)
        figures["validate_files_exit_code"] = code
        shutil.rmtree(project / ".remedy", ignore_errors=True)
        figures["validate_files_semantic_cold_seconds"], _ = timed([*remedy, "validate"], project, 1)
        figures["validate_files_semantic_warm_seconds"], _ = timed([*remedy, "validate"], project, options.repeat)
        figures["heavy_imports_validate_semantic_warm"] = imported_modules(["validate"], project)
    figures["cpu_count"] = os.cpu_count()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

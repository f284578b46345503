"""Commands that use the matcher: match, test, calibrate, and `model adapt`."""

from __future__ import annotations

from pathlib import Path

import typer

from remedy.commands.analytics import STRICT
from remedy.commands.common import choose, config_from, write
from remedy.errors import EXIT_FINDINGS, EXIT_OK
from remedy.report.tables import FORMATS, json_document, render_rows

model_app = typer.Typer(no_args_is_help=True, help="Work with the embedding model.")


def register(app: typer.Typer) -> None:
    app.command("match")(match)
    app.command("test")(test)
    app.command("calibrate")(calibrate)
    app.add_typer(model_app, name="model")


def _folder_index(ctx: typer.Context):  # noqa: ANN202
    from remedy.files.folder import load_folder
    from remedy.matching.folder_index import build_folder_index

    config = config_from(ctx)
    return build_folder_index(load_folder(config.remediations).remediations, config)


def match(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="A user query."),
    response: str | None = typer.Option(None, "--response", help="A response, to see whether a review applies."),
    top: int = typer.Option(5, "--top", help="How many nearest entries to show."),
    fmt: str = typer.Option("table", "--format", help="table, json or markdown."),
) -> None:
    """What the assistant would do for QUERY: the answer served, guidance added, review verdict.

    Shows similarity, margin and the nearest misses, so you can try variations of a question.
    Example: remedy match "my flight got cancelled, can I get my money back?"
    """
    from remedy.matching.explain import explain_query
    from remedy.normalize import encodable
    from remedy.report.matching import match_text

    choose(fmt, ("table", "json", "markdown"), "--format")
    # Bytes that are not UTF-8 on the command line arrive as lone surrogates.
    report = explain_query(_folder_index(ctx), encodable(query), encodable(response) if response else response,
                           top=top)
    write(json_document(report) if fmt == "json" else match_text(report, fmt))


def test(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown."),
) -> None:
    """Every also_matches must match its entry; no must_not_match may. Exit 1 on any failure."""
    from remedy.files.folder import load_folder
    from remedy.matching.folder_index import build_folder_index
    from remedy.matching.self_test import run_self_tests

    choose(fmt, FORMATS, "--format")
    config = config_from(ctx)
    remediations = load_folder(config.remediations).remediations
    report = run_self_tests(build_folder_index(remediations, config), remediations)
    rows = [failure.__dict__ for failure in report.failures]
    columns = ("file", "line", "id", "field", "text", "winner", "similarity")
    summary = {"examples": report.examples, "failed": len(report.failures),
               "held_out_matched": report.held_out_matched, "held_out_total": report.held_out_total}
    if fmt == "json" or rows:
        write(render_rows(rows, columns, fmt, key="failures", extra=summary))
    typer.echo(f"{report.examples} examples, {len(report.failures)} failed; {report.held_out_matched} of "
               f"{report.held_out_total} also_matches would match even if not listed", err=True)
    raise typer.Exit(EXIT_FINDINGS if report.failures else EXIT_OK)


def calibrate(
    ctx: typer.Context,
    pairs: Path | None = typer.Option(None, "--pairs", help='JSONL of {"query": ..., "expected": id or null}.'),
    target: float = typer.Option(0.95, "--target-precision", help="The precision to reach."),
    kind: str = typer.Option("answer", "--kind", help="answer, guidance or review."),
    write_config: bool = typer.Option(False, "--write", help="Write threshold and margin into remedy.toml."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown (the curve)."),
) -> None:
    """Recommend threshold and margin for a target precision, from labelled pairs or the folder's examples."""
    from remedy.config_writer import write_calibration
    from remedy.matching.calibrate_folder import calibrate_project

    choose(fmt, FORMATS, "--format")
    choose(kind, ("answer", "guidance", "review"), "--kind")
    config = config_from(ctx)
    found = calibrate_project(config, pairs_file=pairs, kind=kind, target_precision=target)
    result = found.result
    margins = sorted({point.margin for point in result.curve})
    shown = [p.__dict__ for p in result.curve if p.margin == result.margin or fmt in ("json", "csv")]
    summary = {"threshold": result.threshold, "margin": result.margin, "precision": result.precision,
               "recall": result.recall, "met_target": result.met_target, "target_precision": target,
               "positives": result.positives, "negatives": result.negatives, "source": found.source,
               "model": found.model, "fingerprint": found.fingerprint}
    write(render_rows(shown, ("threshold", "margin", "precision", "recall", "accepted", "false_matches"), fmt,
                      key="curve", extra=summary))
    verdict = "reaches" if result.met_target else "does NOT reach"
    typer.echo(f"recommended: threshold {result.threshold:.2f}, margin {result.margin:.2f} {verdict} precision "
               f"{target:.2f} on {result.positives + result.negatives} pairs from {found.source} "
               f"(precision {result.precision:.3f}, recall {result.recall:.3f}; margins tried "
               f"{margins[0]:.2f}-{margins[-1]:.2f})", err=True)
    if write_config:
        path = write_calibration(config, threshold=result.threshold, margin=result.margin, model=found.model,
                                 fingerprint=found.fingerprint)
        typer.echo(f"wrote threshold and margin to {path}", err=True)


@model_app.command("adapt")
def adapt(
    ctx: typer.Context,
    logs: list[str] = typer.Option(..., "--logs", help="Log export(s) whose queries the model should learn."),
    out: Path = typer.Option(..., "--out", help="Folder to write the adapted model2vec model to."),
    teacher: str | None = typer.Option(None, "--teacher", help="A local sentence-transformers folder "
                                       "(default: the offline all-MiniLM-L6-v2 of the adapt extra)."),
    guide: bool = typer.Option(True, "--guide/--no-guide", help="Pull log queries the teacher confidently "
                               "matches to a remediation toward it (default), or fit the teacher alone."),
    strict: bool = STRICT,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out folder."),
) -> None:
    """Adapt the configured model to your users' queries (needs: pip install 'remedy-sme[adapt]').

    Static token vectors are fitted so that mean-pooled query vectors regress the teacher transformer's
    embeddings of the distinct log queries (closed-form ridge toward the starting model); queries the
    teacher confidently matches to one of your remediations are pulled toward it. Then set
    `model = "OUT"` in remedy.toml and run `remedy calibrate --write`.
    """
    from remedy.commands.analytics import progress_for, report_skipped
    from remedy.matching.adapt_project import adapt_project

    summary = adapt_project(config_from(ctx), logs, out, teacher=teacher, guide=guide, strict=strict,
                            overwrite=overwrite, progress=progress_for("table"))
    report_skipped(summary.skipped_lines, summary.first_skipped)
    before, after = summary.before, summary.after

    def share(part: int, whole: int) -> str:
        return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "n/a"

    guided = (f"guided by the folder: {summary.guided_queries:,} queries pulled toward "
              f"{summary.guided_entries:,} remediations"
              if guide else "not guided by the folder (--no-guide): a plain fit to the teacher")
    write(f"adapted model written to {summary.out_dir}: {summary.queries:,} distinct queries, "
          f"{summary.tokens_changed:,} token vectors changed in {summary.seconds:.1f} s\n"
          f"{guided}\n"
          f"held-out also_matches (\"after\" is a second fit that never saw them):\n"
          f"  nearest entry is their own:    {share(before.top1, before.examples)} before, "
          f"{share(after.top1, after.examples)} after\n"
          f"  accepted by the decision rule: {share(before.accepted, before.examples)} before, "
          f"{share(after.accepted, after.examples)} after\n"
          f"next: set model = \"{summary.out_dir}\" in remedy.toml, then run `remedy calibrate --write`\n")

"""Commands that use the matcher: match, test, calibrate, suggest, and `model adapt`."""

from __future__ import annotations

from pathlib import Path

import typer

from remedy.commands.analytics import STRICT
from remedy.commands.common import choose, config_from, write
from remedy.errors import EXIT_FINDINGS, EXIT_OK
from remedy.matching.settings_origin import settings_text
from remedy.report.tables import FORMATS, render

model_app = typer.Typer(no_args_is_help=True, help="Work with the embedding model.")


def register(app: typer.Typer) -> None:
    app.command("match")(match)
    app.command("test")(test)
    app.command("calibrate")(calibrate)
    app.command("suggest")(suggest)
    app.add_typer(model_app, name="model")


def _matcher(ctx: typer.Context):  # noqa: ANN202
    from remedy.files.folder import load_folder
    from remedy.matching.matcher import build_matcher

    config = config_from(ctx)
    return build_matcher(load_folder(config.remediations_dir).remediations, config)


def match(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="A user query."),
    response: str | None = typer.Option(None, "--response", help="A response, to see whether a review applies."),
    top: int = typer.Option(5, "--top", help="How many nearest entries to show."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv (the nearest entries) or markdown."),
) -> None:
    """What the assistant would do for QUERY: the answer served, guidance added, review verdict.

    Shows similarity, margin and the nearest misses, so you can try variations of a question.
    Example: remedy match "my flight got cancelled, can I get my money back?"
    """
    from remedy.matching.explain import explain_query
    from remedy.matching.matcher import uncalibrated_notice
    from remedy.normalize import encodable
    from remedy.report.matching import MATCH

    choose(fmt, FORMATS, "--format")
    built = _matcher(ctx)
    notice = uncalibrated_notice(config_from(ctx), built.embedder)
    if notice:
        typer.echo(notice, err=True)
    # Bytes that are not UTF-8 on the command line arrive as lone surrogates.
    report = explain_query(built, encodable(query), encodable(response) if response else response, top=top)
    write(render(report, fmt, MATCH))


def test(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown."),
) -> None:
    """Every also_matches must match its entry; no must_not_match may. Exit 1 on any failure."""
    from remedy.files.folder import load_folder
    from remedy.matching.matcher import build_matcher
    from remedy.matching.self_test import run_self_tests
    from remedy.report.matching import SELF_TEST, self_test_summary

    choose(fmt, FORMATS, "--format")
    config = config_from(ctx)
    remediations = load_folder(config.remediations_dir).remediations
    report = run_self_tests(build_matcher(remediations, config), remediations)
    write(render(report, fmt, SELF_TEST))
    if fmt == "csv":  # a CSV file is one table: its totals go beside it
        typer.echo(self_test_summary(report), err=True)
    raise typer.Exit(EXIT_FINDINGS if report.failures else EXIT_OK)


def suggest(
    ctx: typer.Context,
    ids: list[str] = typer.Argument(None, metavar="[ID]...", show_default=False,
                                    help="The answers (or guidance) to teach; none: every active answer."),
    logs: list[str] = typer.Option([], "--logs", help="Log export(s) whose queries to suggest (repeatable)."),
    served: bool = typer.Option(False, "--served", help="Also list what each entry already serves (least "
                                "certain first): an audit."),
    limit: int = typer.Option(20, "--limit", help="Suggestions per entry (and as many served ones with --served)."),
    order: str = typer.Option("default", "--order", help="spread (over the band, the default: more recall per "
                              "click on CLINC150) or nearest (the nearest first)."),
    out: Path | None = typer.Option(None, "--out", help="Write the suggestions as a fill-in labels file "
                                    "(label: yes | no | skip); must not exist yet."),
    apply: Path | None = typer.Option(None, "--apply", help="Apply a filled-in labels file: yes -> also_matches, "
                                      "no -> must_not_match (all or nothing)."),
    since: str | None = typer.Option(None, "--since", help="Only logs at or after this date/time (ISO 8601)."),
    until: str | None = typer.Option(None, "--until", help="Only logs before this date/time (ISO 8601)."),
    strict: bool = STRICT,
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown."),
) -> None:
    """The log queries an expert should judge for each answer, nearest first, near-duplicates folded.

    Step 1: remedy suggest --logs logs.jsonl --out labels.yaml   (or name answers: remedy suggest ID … --logs …)

    Step 2: the expert fills in label: yes (same question) | no (must not get this answer) | skip

    Step 3: remedy suggest --apply labels.yaml, then remedy test, and commit the changed files.
    """
    from remedy.commands.analytics import parse_time, report_skipped
    from remedy.errors import UsageError
    from remedy.matching.suggestions import suggest as suggest_core
    from remedy.matching.suggestions import write_suggestion_labels
    from remedy.report.matching import SUGGESTIONS, suggestions_summary

    choose(fmt, FORMATS, "--format")
    config = config_from(ctx)
    if apply is not None:
        if ids or logs or out is not None or served:
            raise UsageError("--apply FILE takes no ids, --logs, --out or --served: it applies the file's labels")
        _apply_suggestions(config, apply, fmt)
        return
    if not logs:
        raise UsageError("remedy suggest needs --logs PATH… (or --apply FILE)")
    from remedy.matching.suggestions import DEFAULT_ORDER, ORDERS

    chosen = DEFAULT_ORDER if order == "default" else choose(order, ORDERS, "--order")
    result = suggest_core(config, logs, ids or (), served=served, limit=limit, order=chosen, strict=strict,
                          since=parse_time(since, "--since"), until=parse_time(until, "--until"))
    report_skipped(result.skipped_lines, result.first_skipped)
    if result.uncalibrated:
        typer.echo(result.uncalibrated, err=True)
    if out is not None:
        written = write_suggestion_labels(result, out, inputs=logs, config=config)
        typer.echo(f"wrote {written} suggestions to {out}; next: fill in label: yes | no | skip, then "
                   f"remedy suggest --apply {out}", err=True)
        return
    write(render(result, fmt, SUGGESTIONS))
    if fmt == "csv":
        typer.echo(suggestions_summary(result), err=True)


def _apply_suggestions(config, labels: Path, fmt: str) -> None:  # noqa: ANN001
    from remedy.report.matching import APPLIED
    from remedy.suggestion_apply import apply_labels

    applied = apply_labels(config, labels)
    write(render(applied, fmt, APPLIED))


def calibrate(
    ctx: typer.Context,
    sample: int | None = typer.Option(None, "--sample", help="Draw N log queries for experts to label "
                                      "(with --logs and --out)."),
    logs: list[str] = typer.Option([], "--logs", help="Log export(s) to draw the sample from."),
    out: Path | None = typer.Option(None, "--out", help="The labelling file to write (must not exist yet)."),
    labels: list[Path] = typer.Option([], "--labels", help="Filled-in labels file(s): choose settings from "
                                      "them; with --sample, their queries are not asked again. Several files "
                                      "after one flag or the flag repeated: --labels r1.yaml r2.yaml"),
    more_labels: list[Path] = typer.Argument(None, metavar="[LABELS]...", show_default=False,
                                             help="More labels files after --labels FILE."),
    pairs: Path | None = typer.Option(None, "--pairs", help='JSONL of {"query": ..., "expected": id or null}.'),
    target: float = typer.Option(0.95, "--target-precision", help="The precision to certify, in (0, 1]."),
    kind: str = typer.Option("answer", "--kind", help="answer, guidance or review."),
    write_config: bool = typer.Option(False, "--write", help="Write threshold and margin into remedy.toml "
                                      "(refused, exit 1, when the target cannot be certified)."),
    seed: int = typer.Option(0, "--seed", help="With --sample: the random seed of the draw."),
    strict: bool = STRICT,
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown (the curve)."),
) -> None:
    """Choose threshold and margin from expert labels, with a confidence bound on precision.

    Step 1: remedy calibrate --sample 200 --logs logs.jsonl --out labels.yaml

    Step 2: experts fill in label: yes | no (docs/matching.md, "Labelling")

    Step 3: remedy calibrate --labels labels.yaml --write

    A second round: --sample N --logs … --labels labels.yaml --out round-2.yaml, then
    remedy calibrate --labels labels.yaml round-2.yaml --write (every round's file).

    Without --labels/--pairs the folder's also_matches (held out) and must_not_match are the labels.
    """
    from remedy.errors import UsageError

    choose(fmt, FORMATS, "--format")
    choose(kind, ("answer", "guidance", "review"), "--kind")
    if not 0.0 < target <= 1.0:
        raise UsageError(f"--target-precision must be in (0, 1], not {target}")
    if more_labels and not labels:
        raise UsageError(f"unexpected file {str(more_labels[0])!r}: labels files go after --labels "
                         "(--labels r1.yaml r2.yaml)")
    labels = [*labels, *(more_labels or [])]  # `--labels a b` gives a to the flag and b here: one list
    config = config_from(ctx)
    if sample is not None:
        _calibrate_sample(config, sample, logs, out, labels, kind, seed, strict)
        return
    if logs or out is not None:
        raise UsageError("--logs and --out go with --sample N (drawing a labelling sample)")
    _calibrate_labels(config, labels, pairs, target, kind, write_config, fmt)


def _calibrate_sample(config, n: int, logs: list[str], out: Path | None, labels: list[Path], kind: str,  # noqa: ANN001
                      seed: int, strict: bool) -> None:
    from remedy.commands.analytics import report_skipped
    from remedy.errors import UsageError
    from remedy.matching.calibrate_folder import sample_project
    from remedy.matching.calibration_labels import labels_command

    if not logs or out is None:
        raise UsageError("--sample N needs --logs PATH… and --out FILE")
    summary = sample_project(config, logs, n, out, labels_files=labels, kind=kind, seed=seed, strict=strict)
    report_skipped(summary.skipped_lines, summary.first_skipped)
    drawn = summary.sample
    typer.echo(f"wrote {len(drawn.rows)} questions to {summary.out} ({drawn.considered:,} distinct log queries; "
               f"{drawn.exact:,} exact matches, {drawn.already_labelled:,} already labelled and "
               f"{drawn.no_opinion:,} screened out (the judge has no opinion of them) left out).\n"
               f"next: experts fill in `label: yes | no` (docs/matching.md, 'Labelling'), then "
               f"{labels_command(summary.rounds)} --write", err=True)


def _calibrate_labels(config, labels: list[Path], pairs: Path | None, target: float, kind: str,  # noqa: ANN001
                      write_config: bool, fmt: str) -> None:
    from remedy.config_writer import write_calibration
    from remedy.matching.calibrate_folder import calibrate_project
    from remedy.report.matching import CALIBRATION, calibration_headline

    found = calibrate_project(config, pairs_file=pairs, labels_files=labels, kind=kind, target_precision=target)
    report = found.report()
    write(render(report, fmt, CALIBRATION))
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if report.unanswered:
        typer.echo(f"{report.unanswered} row(s) not answered yet were left out", err=True)
    if fmt in ("json", "csv"):  # the document holds it all; a person reading along still sees the verdict
        typer.echo(calibration_headline(report), err=True)
    if not write_config:
        return
    if not report.met_target:
        typer.echo("nothing written: the target is not certified", err=True)
        raise typer.Exit(EXIT_FINDINGS)
    evidence: dict[str, str | int | float] = {
        "target_precision": target, "precision_lower": report.precision_lower, "recall": report.recall,
        "labels": report.labels, "source": report.source}
    if report.labels_hash:
        evidence["labels_sha256"] = report.labels_hash
    path = write_calibration(config, threshold=report.threshold, margin=report.margin, model=report.model,
                             fingerprint=report.fingerprint, evidence=evidence)
    typer.echo(f"wrote threshold and margin to {path}", err=True)


@model_app.command("fingerprint")
def fingerprint(ctx: typer.Context) -> None:
    """Print one word naming the models that decide (static, and the verifier when it does): a CI cache key.

    The workflow `remedy init` writes keys its cache of .remedy/ with it (docs/pull-requests.md).
    """
    from remedy.matching.judge import judge_for

    write(judge_for(config_from(ctx)).cache_key() + "\n")


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
    teacher confidently matches to one of your remediations are pulled toward it. The adapted model gets
    its own decision defaults, chosen on log queries it never fitted, labelled by the teacher. Then set
    `model = "OUT"` in remedy.toml (unless the summary says not to switch).
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
          f"{_adapted_defaults_text(summary)}")


def _adapted_defaults_text(summary) -> str:  # noqa: ANN001
    defaults, chosen, base = summary.defaults, summary.chosen, summary.base_chosen
    setting = settings_text(defaults['threshold'], defaults['margin'])
    if chosen is None:
        why = defaults.get("rule", "")
        lines = [f"decision defaults written for the adapted model: {setting} (exact matches only): {why}"]
    else:
        held = (f"on {chosen.queries:,} log queries held out of a second fit, labelled by the teacher "
                f"({chosen.teacher_positives:,} with a remediation)")
        if chosen.capped:
            lines = [f"decision defaults written for the adapted model: {setting}, chosen {held}: certified by the "
                     "teacher's labels, then raised until it accepts no larger share of them than the base model's "
                     "defaults (too few left to certify; as safe as those defaults)"]
        elif chosen.certified:
            lines = [f"decision defaults written for the adapted model: {setting}, chosen {held}: the most recall "
                     f"({chosen.recall:.3f}) whose 95% lower bound on precision ({chosen.precision_lower:.3f}) "
                     f"reaches {defaults['target_precision']}"]
        else:
            lines = [f"decision defaults written for the adapted model: {setting} (exact matches only): no setting "
                     f"certifies precision {defaults['target_precision']} {held}"]
        if base is not None:
            lines.append(f"  the base model there at its defaults ({settings_text(base.threshold, base.margin)})"
                         f": precision {base.precision:.3f}, recall {base.recall:.3f}; adapted: "
                         f"precision {chosen.precision:.3f}, recall {chosen.recall:.3f}")
    worse = summary.worse
    if worse:
        lines.append("do NOT switch to the adapted model: " + "; ".join(worse))
        lines.append("keep the current model (or adapt again with more logs)")
    else:
        lines.append(f'next: set model = "{summary.out_dir}" in remedy.toml; its own defaults apply until '
                     "`remedy calibrate --labels … --write` sets settings your experts certified")
    return "\n".join(lines) + "\n"

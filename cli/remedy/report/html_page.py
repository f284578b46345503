"""The `remedy report` page: one self-contained HTML file from a `Report`.

Built with the standard library's `html.escape` in small functions, one per section: the page has
no loops or conditions complex enough to want a template language, and every value passes through
`_e` (or is a number we format), so nothing from the logs can inject markup. The page loads nothing:
styles and a little script are inline, charts are SVG from `remedy.report.svg`, and a Content
Security Policy forbids every fetch and allows only that script and style, by hash. The script only
adds sorting, filtering and copy buttons; with JavaScript off every number and every draft is still there.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from remedy.analytics.report import (
    MAX_NEVER_MATCHED,
    MAX_REMEDIATIONS,
    Bucket,
    QueueItem,
    RemediationRow,
    Report,
)
from remedy.matching.settings_origin import setting_text
from remedy.report.svg import line_chart, sparkline, stacked_bars
from remedy.report.tables import iso_z


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _count(value: int | float | None) -> str:
    return "–" if value is None else f"{value:,}"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _day(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d") \
        if value.tzinfo else value.strftime("%Y-%m-%d")


def _iso(value: dt.datetime | None) -> str:
    return "" if value is None else iso_z(value)


def _logs_option(report: Report) -> str:
    return "".join(f" {shlex.quote(option)}" for option in report.log_options)


def _table(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[tuple[str, Any]]], *,
           table_id: str = "", caption: str = "", sortable: bool = True) -> str:
    """A table; each cell is (html, sort value). Numeric columns are right-aligned ("num" class)."""
    head = "".join(f'<th scope="col" class="{kind}">{_e(name)}</th>' for name, kind in columns)
    body = []
    for row in rows:
        cells = "".join(f'<td class="{kind}" data-sort="{_e(sort)}">{html}</td>'
                        for (html, sort), (_, kind) in zip(row, columns, strict=True))
        body.append(f"<tr>{cells}</tr>")
    attributes = f' id="{table_id}"' if table_id else ""
    classes = "sortable" if sortable else ""
    caption_html = f"<caption>{_e(caption)}</caption>" if caption else ""
    return (f'<table{attributes} class="{classes}">{caption_html}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _more(count: int, what: str, command: str) -> str:
    if count <= 0:
        return ""
    return f'<p class="more">{count:,} more {_e(what)} — run <code>{_e(command)}</code> to list them all.</p>'


def _numbers(title: str, table: str) -> str:
    return f'<details class="numbers"><summary>{_e(title)}: the numbers</summary>{table}</details>'


# -- sections --------------------------------------------------------------------------------------

def _headline(report: Report) -> str:
    cards = []
    days = None
    if report.previous and report.previous.since and report.previous.until:
        days = (report.previous.until - report.previous.since).total_seconds() / 86400
    for metric in report.headline:
        value = _share(metric.value) if metric.is_share else _count(metric.value)
        change = metric.change
        if change is None:
            note = "no earlier period (pass --since to compare)" if report.previous is None else "no change data"
            change_html = f'<span class="change none">{_e(note)}</span>'
        else:
            sign = "+" if change > 0 else ""
            text = f"{sign}{100 * change:.1f} pts" if metric.is_share else f"{sign}{change:,}"
            direction = "up" if change > 0 else "down" if change < 0 else "flat"
            # green for good news, red for bad: a fall in failures is good news
            meaning = ("neutral" if metric.better is None or direction == "flat" else
                       "good" if direction == metric.better else "bad")
            before = _share(metric.previous) if metric.is_share else _count(metric.previous)
            change_html = (f'<span class="change {direction} {meaning}" data-change="{_e(change)}">{_e(text)} '
                           f'vs previous {days:.0f} days ({_e(before)})</span>')
        cards.append(f'<div class="card" data-metric="{_e(metric.key)}" data-value="{_e(metric.value)}">'
                     f'<div class="label">{_e(metric.label)}</div><div class="value">{_e(value)}</div>'
                     f"{change_html}</div>")
    return f'<section id="headline"><h2>Headline</h2><div class="cards">{"".join(cards)}</div></section>'


def _bucket_label(start: dt.datetime, bucket: str) -> str:
    return start.strftime("%Y-%m" if bucket == "month" else "%Y-%m-%d")


def _over_time(report: Report) -> str:
    buckets: Sequence[Bucket] = report.over_time
    labels = [_bucket_label(b.start, report.bucket) for b in buckets]
    per = {"day": "per day", "week": "per week (from Monday)", "month": "per month"}[report.bucket]
    counts = line_chart(f"Queries, failures and answers served {per}", labels,
                        [("queries", [b.queries for b in buckets]), ("failures", [b.failures for b in buckets]),
                         ("answers served", [b.prevented for b in buckets])])
    shares = line_chart(f"Addressed share of failures {per} (active + draft)", labels,
                        [("addressed share", [b.addressed_share for b in buckets])], percent=True)
    columns = [(report.bucket, ""), ("queries", "num"), ("failures", "num"), ("answers served", "num"),
               ("addressed", "num"), ("addressed share", "num")]
    rows = [[(_e(label), label), (_count(b.queries), b.queries), (_count(b.failures), b.failures),
             (_count(b.prevented), b.prevented), (_count(b.addressed_failures), b.addressed_failures),
             (_share(b.addressed_share), "" if b.addressed_share is None else b.addressed_share)]
            for label, b in zip(labels, buckets, strict=True)]
    return (f'<section id="over-time"><h2>Over time</h2>'
            f'<figure><figcaption>Queries, failures and answers served {per}</figcaption>{counts}</figure>'
            f'<figure><figcaption>Addressed share {per}</figcaption>{shares}</figure>'
            f'{_numbers("Over time", _table(columns, rows, table_id="over-time-table"))}</section>')


def _root_causes(report: Report) -> str:
    chart = stacked_bars("Failures by primary issue: addressed and unaddressed",
                         [(c.primary_issue, (c.addressed, c.unaddressed)) for c in report.root_causes],
                         ("addressed", "unaddressed"))
    columns = [("primary issue", ""), ("failures", "num"), ("addressed", "num"), ("unaddressed", "num"),
               ("addressed share", "num")]
    rows = [[(_e(c.primary_issue), c.primary_issue), (_count(c.failures), c.failures),
             (_count(c.addressed), c.addressed), (_count(c.unaddressed), c.unaddressed),
             (_share(c.addressed / c.failures if c.failures else None), c.addressed / c.failures if c.failures else 0)]
            for c in report.root_causes]
    return (f'<section id="root-causes"><h2>Root causes</h2><figure><figcaption>Failures by primary issue'
            f'</figcaption>{chart}</figure>{_table(columns, rows, table_id="root-causes-table")}</section>')


def _remediation_cells(row: RemediationRow, report: Report) -> list[tuple[str, Any]]:
    per = report.bucket
    spark = sparkline(f"{row.id}: answers served per {per}: " + ", ".join(str(v) for v in row.preventions_by_bucket),
                      row.preventions_by_bucket) if row.kind == "answer" else ""
    return [(f'<code>{_e(row.id)}</code>', row.id), (_e(row.kind), row.kind),
            (f'<span class="status {_e(row.status)}">{_e(row.status)}</span>', row.status),
            (_e(", ".join(row.owners)), ", ".join(row.owners)),
            (_count(row.covered_failures), row.covered_failures), (_count(row.covered_logs), row.covered_logs),
            (_count(row.preventions), row.preventions),
            (_e(_day(row.last_prevention)), _iso(row.last_prevention)),
            (_e(_day(row.created)), _iso(row.created)), (_e(_day(row.updated)), _iso(row.updated)),
            (_e(row.updated_by), row.updated_by or ""), (spark, sum(row.preventions_by_bucket))]


def _remediations(report: Report) -> str:
    columns = [("id", ""), ("kind", ""), ("status", ""), ("owners", ""), ("covered failures", "num"),
               ("covered logs", "num"), ("answers served", "num"), ("last served", "date"), ("created", "date"),
               ("last edited", "date"), ("by", ""), (f"answers served per {report.bucket}", "num")]
    table = _table(columns, (_remediation_cells(r, report) for r in report.remediations), table_id="remediations-table")
    by_id = {r.id: r for r in report.remediations}
    top_p = "".join(f"<li><code>{_e(i)}</code> {_count(by_id[i].preventions) if i in by_id else ''}</li>"
                    for i in report.top_by_preventions) or "<li>none yet</li>"
    top_c = "".join(f"<li><code>{_e(i)}</code> {_count(by_id[i].covered_failures) if i in by_id else ''}</li>"
                    for i in report.top_by_coverage) or "<li>none</li>"
    never = "".join(f"<li><code>{_e(i)}</code></li>" for i in report.never_matched) or "<li>none</li>"
    command = f"remedy coverage{_logs_option(report)}"
    sparks = _numbers(f"Preventions per {report.bucket} by answer", _table(
        [("answer", ""), *[(_bucket_label(b.start, report.bucket), "num") for b in report.over_time]],
        ([(f"<code>{_e(r.id)}</code>", r.id), *[(str(v), v) for v in r.preventions_by_bucket]]
         for r in report.remediations if r.kind == "answer"), sortable=False))
    return (f'<section id="remediations"><h2>Remediations</h2>'
            f'<p>{report.remediations_total:,} remediations; answers served counted from '
            f'{_e(report.preventions_source)}.</p>'
            f'<div class="lists"><div><h3>Top by answers served</h3><ol id="top-preventions">{top_p}</ol></div>'
            f'<div><h3>Top by covered failures</h3><ol id="top-coverage">{top_c}</ol></div>'
            f'<div><h3>Never matched anything ({report.never_matched_total:,})</h3><ul id="never-matched">{never}</ul>'
            f'{_more(report.never_matched_total - MAX_NEVER_MATCHED, "entries", command)}</div></div>'
            f'<p class="tools"><label>Filter <input type="search" data-filter="remediations-table" '
            f'placeholder="id, kind, status, owner…"></label></p>{table}'
            f'{_more(report.remediations_total - MAX_REMEDIATIONS, "remediations", command)}{sparks}</section>')


def _contributions(report: Report) -> str:
    if not report.in_git:
        return ('<section id="contributions"><h2>Contributions</h2><p>The remediations folder is not in git '
                '(or has no commits): authors are unknown.</p></section>')
    columns = [("author", ""), ("created", "num"), ("edited", "num"), ("answers served credited", "num")]
    rows = [[(_e(c.author), c.author), (_count(c.created), c.created), (_count(c.edited), c.edited),
             (_count(c.preventions), c.preventions)] for c in report.contributions]
    return ('<section id="contributions"><h2>Contributions</h2><p>From git: who created each remediation, who '
            'edited it afterwards, and the answers served of the answers each author created; authored content '
            'only: not init&#x27;s examples, TODO scaffolds or status flips.</p>'
            f'{_table(columns, rows, table_id="contributions-table")}</section>')


def _queue_item(item: QueueItem, report: Report) -> str:
    block = f"draft-{item.rank}"
    facts = [("impact", f"{item.impact:.2f}"), ("failures", f"{item.size:,}"),
             ("mean severity", f"{item.mean_severity:.2f}"), ("primary issue", item.primary_issue),
             ("trend", item.trend),
             *[(key.replace("_", " "), _iso(value) if isinstance(value, dt.datetime) else str(value))
               for key, value in item.extra]]
    fact_html = "".join(f"<dt>{_e(k)}</dt><dd data-key=\"{_e(k)}\">{_e(v)}</dd>" for k, v in facts)
    queries = "".join(f"<li>{_e(q)}</li>" for q in item.queries)
    samples = "".join(f'<li><span class="meta">{_e(s.log_id)} · {_e(_iso(s.timestamp))} · severity '
                      f'{s.severity:.2f}</span><div class="q">{_e(s.query)}</div>'
                      f'<div class="r">{_e(s.response or "(no response)")}</div></li>' for s in item.samples)
    spark = sparkline(f"failures per {report.bucket}: " + ", ".join(str(v) for v in item.failures_by_bucket),
                      item.failures_by_bucket)
    spark += _numbers(f"Failures per {report.bucket}", _table(
        [(_bucket_label(b.start, report.bucket), "num") for b in report.over_time],
        [[(str(v), v) for v in item.failures_by_bucket]], sortable=False))
    link = (f'<a class="github" href="{_e(item.github_url)}" rel="noopener">Open on GitHub as a new file '
            f'(then propose it as a pull request)</a>' if item.github_url else
            '<span class="hint">Pass --repo-url (or add a git remote named origin) for a link that opens this '
            'file on GitHub.</span>')
    command = f"remedy new answer --from-issue {item.id}{_logs_option(report)}"
    return (f'<article class="issue" id="issue-{_e(item.id)}" data-issue="{_e(item.id)}">'
            f'<h3>{item.rank}. {_e(item.representative_query)} <span class="id">{_e(item.id)}</span></h3>'
            f'<dl class="facts">{fact_html}</dl><div class="spark-line">{spark}</div>'
            f'<div class="columns"><div><h4>Sample queries</h4><ul>{queries}</ul></div>'
            f'<div><h4>Sample responses</h4><ul class="samples">{samples}</ul></div></div>'
            f'<details class="create" open><summary>Create Expert Answer</summary>'
            f'<p>Save as <code>{_e(item.draft_path)}</code>, write the answer in place of the TODO, then open '
            f'a pull request. The same file: <code>{_e(command)}</code></p>'
            f'<pre><code id="{block}">{_e(item.draft_yaml)}</code></pre>'
            f'<p class="actions"><button type="button" data-copy="{block}" hidden>Copy YAML</button> {link}</p>'
            f"</details></article>")


def _queue(report: Report) -> str:
    items = "".join(_queue_item(item, report) for item in report.queue) or "<p>No unaddressed failures.</p>"
    more = _more(report.issues_total - len(report.queue), "issues", f"remedy issues{_logs_option(report)} --top 0")
    return (f'<section id="queue"><h2>The queue: {len(report.queue)} of {report.issues_total:,} unaddressed issues'
            f'</h2><p>Ranked by impact. Each one can be fixed by one Expert Answer: copy the draft or open it on '
            f'GitHub.</p>{items}{more}</section>')


def _matching(report: Report) -> str:
    health = report.matching
    facts = [("model", health.model), ("model pin (fingerprint)", health.fingerprint),
             ("threshold", setting_text(health.threshold)), ("margin", setting_text(health.margin)),
             ("settings from", health.settings_source),
             ("entries with their own threshold", str(health.entry_thresholds))]
    fact_html = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    columns = [("query", ""), ("failures", "num"), ("nearest answer", ""), ("similarity", "num"), ("threshold", "num")]
    rows = [[(_e(m.query), m.query), (_count(m.failures), m.failures), (f"<code>{_e(m.nearest_id)}</code>",
             m.nearest_id), (f"{m.similarity:.3f}", m.similarity), (f"{m.threshold:.3f}", m.threshold)]
            for m in health.near_misses]
    table = _table(columns, rows, table_id="near-misses-table") if rows else "<p>No near misses.</p>"
    return (f'<section id="matching"><h2>Matching health</h2><dl class="facts">{fact_html}</dl>'
            f'<h3>Near misses</h3><p>The most frequent unaddressed failures (up to 20) whose nearest answer '
            f'(active or draft) is within 0.05 below its threshold: add them as <code>also_matches</code> if '
            f'they ask the same thing.</p>{table}</section>')


_STYLE = """
:root{--fg:#1d232b;--muted:#5b6572;--line:#d9dee5;--bg:#fff;--soft:#f4f6f9;--accent:#2f6fb3}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}header,main,footer{max-width:1200px;margin:0 auto;padding:0 20px}
header{padding-top:18px}h1{margin:0 0 4px;font-size:26px}h2{margin:32px 0 10px;font-size:20px;
border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:16px;margin:14px 0 6px}h4{margin:6px 0}
.sub{color:var(--muted)}nav a{margin-right:14px;color:var(--accent)}code{font:13px ui-monospace,monospace}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px}
.card{background:var(--soft);border-radius:8px;padding:12px}.card .label{color:var(--muted);font-size:13px}
.card .value{font-size:26px;font-weight:600}.change{font-size:12px;color:var(--muted)}.change.good{color:#2b7a45}
.change.bad{color:#a43c2b}figure{margin:10px 0}figcaption{font-weight:600;margin-bottom:4px}
svg.chart{width:100%;max-width:760px;height:auto;font-size:11px;fill:var(--muted)}svg .grid{stroke:var(--line)}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13px}th,td{border-bottom:1px solid var(--line);
padding:4px 6px;text-align:left;vertical-align:top}th.num,td.num{text-align:right}td.date,td.num{white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}.lists{display:grid;grid-template-columns:repeat(3,1fr);gap:16px}
.more,.hint{color:var(--muted);font-size:13px}.status.active{color:#2b7a45}.status.draft{color:#8a6d00}
.status.paused{color:var(--muted)}.issue{border:1px solid var(--line);border-radius:8px;padding:10px 14px;
margin:12px 0}.issue .id{color:var(--muted);font-weight:400;font-size:12px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}dt{color:var(--muted)}
dd{margin:0}.issue dl.facts{grid-template-columns:repeat(6,max-content auto)}.columns{display:grid;
grid-template-columns:1fr 2fr;gap:16px}.samples li{margin-bottom:6px}.meta{color:var(--muted);font-size:12px}
.r{color:#444;font-style:italic}pre{background:var(--soft);padding:10px;overflow:auto;max-height:320px;
border-radius:6px}button{font:inherit;padding:4px 10px;border:1px solid var(--accent);background:#fff;
color:var(--accent);border-radius:5px;cursor:pointer}a.github{color:var(--accent)}
details.numbers summary{cursor:pointer;color:var(--accent)}input[type=search]{font:inherit;padding:3px 6px}
footer{color:var(--muted);font-size:12px;padding:30px 20px}
"""

# Sorting, filtering and copy buttons; nothing else. Every promise is handled: no console errors.
_SCRIPT = """
(function(){
function key(cell){var v=cell.getAttribute('data-sort');var n=parseFloat(v);
return (v!==''&&!isNaN(n)&&isFinite(v))?n:(v||'').toLowerCase();}
document.querySelectorAll('table.sortable').forEach(function(table){
table.querySelectorAll('thead th').forEach(function(th,col){th.tabIndex=0;
function sort(){var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
var dir=th.getAttribute('aria-sort')==='descending'?1:-1;
table.querySelectorAll('thead th').forEach(function(o){o.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',dir===1?'ascending':'descending');
rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);
if(typeof x!==typeof y){x=String(x);y=String(y);}return x<y?-dir:x>y?dir:0;});
rows.forEach(function(r){body.appendChild(r);});}
th.addEventListener('click',sort);th.addEventListener('keydown',function(ev){if(ev.key==='Enter')sort();});});});
document.querySelectorAll('input[data-filter]').forEach(function(input){
var table=document.getElementById(input.getAttribute('data-filter'));
input.addEventListener('input',function(){var q=input.value.toLowerCase();
Array.prototype.forEach.call(table.tBodies[0].rows,function(r){
r.hidden=q!==''&&r.textContent.toLowerCase().indexOf(q)<0;});});});
document.querySelectorAll('button[data-copy]').forEach(function(button){button.hidden=false;
button.addEventListener('click',function(){var node=document.getElementById(button.getAttribute('data-copy'));
var text=node.textContent;function done(){button.textContent='Copied';}
function fallback(){var range=document.createRange();range.selectNodeContents(node);
var sel=window.getSelection();sel.removeAllRanges();sel.addRange(range);
try{document.execCommand('copy');done();}catch(e){button.textContent='Selected: press Ctrl+C';}}
if(navigator.clipboard&&navigator.clipboard.writeText){navigator.clipboard.writeText(text).then(done,fallback);}
else{fallback();}});});
})();
"""



def _sha256(text: str) -> str:
    import base64
    import hashlib

    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# The browser runs only the page's own script and applies only its own style sheet (each allowed by its
# hash, no 'unsafe-inline'): markup that slipped past escaping, an inline handler or a javascript: link
# would not run. default-src 'none' forbids every fetch.
_CSP = (f"default-src 'none'; style-src {_sha256(_STYLE)}; script-src {_sha256(_SCRIPT)}; img-src data:; "
        f"base-uri 'none'; form-action 'none'")


def render_page(report: Report) -> str:
    """The whole page; the same report gives the same bytes."""
    from remedy import __version__

    period = (f"{_iso(report.period.since)} to {_iso(report.period.until)} (end exclusive)"
              if report.period.since else "no logs")
    sources = ", ".join(report.logs)
    skipped = f"; {report.skipped_lines:,} malformed lines skipped" if report.skipped_lines else ""
    sections = [_headline(report), _over_time(report), _root_causes(report), _remediations(report),
                _contributions(report), _queue(report), _matching(report)]
    nav = "".join(f'<a href="#{anchor}">{name}</a>' for anchor, name in (
        ("headline", "Headline"), ("over-time", "Over time"), ("root-causes", "Root causes"),
        ("remediations", "Remediations"), ("contributions", "Contributions"), ("queue", "The queue"),
        ("matching", "Matching health")))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>remedy report</title><style>{_STYLE}</style></head><body>'
            f'<header><h1>remedy report</h1><p class="sub">Logs {_e(sources)}: {_e(period)}{_e(skipped)}.</p>'
            f'<nav>{nav}</nav></header><main>{"".join(sections)}</main>'
            f'<footer>Written by remedy {_e(__version__)}. This page loads nothing from the network; '
            f'<code>remedy report --format json</code> gives the same data.</footer>'
            f'<script>{_SCRIPT}</script></body></html>\n')

"""The workspace's routes: server-rendered pages (jinja2, autoescaped) and form posts, each over `Workspace`.

Every POST carries the CSRF token of the browser's session (security.py); every save answers with a redirect
(post/redirect/get) and a one-line message on the next page, so reloading never saves twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from remedy.errors import RefusedError, RemedyError
from remedy.workspace.security import AUTH_COOKIE, CSRF_FIELD, Guard, GuardMiddleware
from remedy.workspace.service import ConflictError, DraftForm, Filters, Workspace

HERE = Path(__file__).parent
MAX_FIELDS = 200


def build_app(workspace: Workspace, guard: Guard) -> Any:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                                     undefined=jinja2.StrictUndefined)
    flashes: dict[str, list[tuple[str, str]]] = {}

    def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        session = request.scope["state"]["session"]
        html = environment.get_template(template).render(
            csrf=guard.csrf_token(session), flashes=flashes.pop(session, []), repository=workspace.repository,
            request_path=request.url.path, **values)
        return HTMLResponse(html, status_code=status)

    def flash(request: Request, kind: str, text: str) -> None:
        flashes.setdefault(request.scope["state"]["session"], []).append((kind, text))

    def filters_of(values: Any, prefix: str = "") -> Filters:
        """The view's filters from a URL's query, or from a form's hidden `view_…` fields."""
        def get(name: str) -> str:
            return str(values.get(prefix + name) or "")

        page_text = get("page") or "1"
        return Filters(state=get("state") or Filters.state, status=get("status") or Filters.status,
                       primary_issue=get("primary_issue"), assignee=get("assignee"), q=get("q")[:200],
                       page=int(page_text) if page_text.isdigit() else 1)

    async def form_of(request: Request) -> Any:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS)
        if not guard.csrf_ok(request.scope["state"]["session"], str(form.get(CSRF_FIELD) or "")):
            raise Forbidden
        return form

    def failure(request: Request, error: RemedyError, back: str) -> HTMLResponse:
        status = 409 if isinstance(error, (ConflictError, RefusedError)) else 400
        return page(request, "error.html", status=status, message=str(error), back=back,
                    current=getattr(error, "current", None))

    async def home(request: Request) -> Response:
        return RedirectResponse("/issues", status_code=303)

    async def issues(request: Request) -> Response:
        filters = filters_of(request.query_params)
        try:
            view = await run_in_threadpool(workspace.queue_page, filters)
        except RemedyError as error:
            return failure(request, error, "/issues")
        return page(request, "issues.html", view=view, filters=filters)

    async def issue(request: Request) -> Response:
        filters = filters_of(request.query_params)
        issue_id = request.path_params["issue_id"]
        try:
            view = await run_in_threadpool(workspace.issue_page, issue_id, filters)
        except RemedyError as error:
            return failure(request, error, f"/issues?{filters.query()}")
        return page(request, "issue.html", view=view, filters=filters, issue_id=issue_id)

    async def decide(request: Request) -> Response:
        """Yes, Skip, assign / note: one save each, then the next issue of the same view."""
        try:
            form = await form_of(request)
        except Forbidden:
            return forbidden()
        filters = filters_of(form, "view_")
        issue_id, action = request.path_params["issue_id"], request.path_params["action"]
        seen = str(form.get("triage_hash") or "")
        back = f"/issues/{issue_id}?{filters.query()}"
        try:
            _, before = await run_in_threadpool(workspace.find, issue_id, filters)
            if action == "yes":
                saved = await run_in_threadpool(workspace.accept, issue_id, filters, seen)
                said = "Saved a good review"
            elif action == "skip":
                saved = await run_in_threadpool(workspace.skip, issue_id, filters, seen)
                said = "Marked addressed"
            elif action == "assign":
                note = form.get("note")
                saved = await run_in_threadpool(workspace.assign, issue_id, filters, seen,
                                                str(form.get("assignee") or "").strip(),
                                                str(note).strip() if note is not None else None)
                flash(request, "ok", f"Saved ({_commit_text(saved)})")
                return RedirectResponse(back, status_code=303)
            else:
                return Response("no such action", status_code=404)
        except RemedyError as error:
            return failure(request, error, back)
        flash(request, "ok", f"{said} ({_commit_text(saved)})")
        return RedirectResponse(_next_url(workspace.next_after(issue_id, before), filters), status_code=303)

    async def reject(request: Request) -> Response:
        """No: GET shows the draft forms; POST `check` shows them again with feedback, `save` writes them."""
        issue_id = request.path_params["issue_id"]
        if request.method == "GET":
            filters, form, feedback = filters_of(request.query_params), DraftForm(), None
            seen = None
        else:
            try:
                posted = await form_of(request)
            except Forbidden:
                return forbidden()
            filters, form = filters_of(posted, "view_"), _draft_form(posted)
            seen = str(posted.get("triage_hash") or "")
            if posted.get("action") == "save":
                back = f"/issues/{issue_id}/no?{filters.query()}"
                try:
                    _, before = await run_in_threadpool(workspace.find, issue_id, filters)
                    saved = await run_in_threadpool(workspace.reject, issue_id, filters, seen, form)
                except RemedyError as error:
                    return failure(request, error, back)
                files = ", ".join(saved.files)
                flash(request, "ok", f"Saved {files} ({_commit_text(saved)})")
                return RedirectResponse(_next_url(workspace.next_after(issue_id, before), filters), status_code=303)
            feedback = True
        try:
            view = await run_in_threadpool(workspace.issue_page, issue_id, filters)
            checked = await run_in_threadpool(workspace.check_form, issue_id, filters, form) if feedback else None
        except RemedyError as error:
            return failure(request, error, f"/issues?{filters.query()}")
        if not form.question:
            form.question = view.detail.representative_query
        return page(request, "draft.html", view=view, filters=filters, issue_id=issue_id, form=form,
                    checked=checked, triage_hash=seen or view.triage_hash)

    async def remediations(request: Request) -> Response:
        view = await run_in_threadpool(workspace.remediations_page)
        return page(request, "remediations.html", view=view)

    async def remediation(request: Request) -> Response:
        remediation_id = request.path_params["remediation_id"]
        try:
            view = await run_in_threadpool(workspace.remediation_page, remediation_id)
        except RemedyError as error:
            return failure(request, error, "/remediations")
        return page(request, "remediation.html", view=view)

    async def remediation_action(request: Request) -> Response:
        try:
            form = await form_of(request)
        except Forbidden:
            return forbidden()
        remediation_id, action = request.path_params["remediation_id"], request.path_params["action"]
        back = f"/remediations/{remediation_id}"
        try:
            saved: Any
            if action in ("activate", "pause"):
                saved = await run_in_threadpool(workspace.set_status, remediation_id,
                                                "active" if action == "activate" else "paused")
                flash(request, "ok", f"{action.capitalize()}d {remediation_id} ({_commit_text(saved)})")
            elif action == "edit":
                saved = await run_in_threadpool(workspace.edit, remediation_id, str(form.get("file_hash") or ""),
                                                str(form.get("text") or ""))
                flash(request, "ok", f"Saved {remediation_id} ({_commit_text(saved)})")
            elif action == "copy":
                saved = await run_in_threadpool(workspace.start_from, remediation_id)
                new_id = Path(saved.result).stem
                flash(request, "ok", f"Started {new_id} from {remediation_id} ({_commit_text(saved)})")
                back = f"/remediations/{new_id}"
            else:
                return Response("no such action", status_code=404)
        except RemedyError as error:
            return failure(request, error, back)
        return RedirectResponse(back, status_code=303)

    async def try_query(request: Request) -> Response:
        query = str(request.query_params.get("q") or "")[:2000]
        report = await run_in_threadpool(workspace.try_query, query) if query.strip() else None
        return page(request, "try.html", query=query, report=report)

    async def send(request: Request) -> Response:
        try:
            await form_of(request)
        except Forbidden:
            return forbidden()
        pushed = await run_in_threadpool(workspace.repository.push)
        return page(request, "sent.html", pushed=pushed, status=200 if pushed.ok else 502)

    async def login(request: Request) -> Response:
        offered = str(request.query_params.get("token") or "")
        if not guard.token_ok(offered):
            return Response("wrong or missing token\n", status_code=401, media_type="text/plain")
        response = RedirectResponse("/issues", status_code=303)
        response.set_cookie(AUTH_COOKIE, guard.auth_value(), httponly=True, samesite="strict")
        return response

    routes = [
        Route("/", home), Route("/issues", issues), Route("/issues/{issue_id}", issue),
        Route("/issues/{issue_id}/no", reject, methods=["GET", "POST"]),
        Route("/issues/{issue_id}/{action}", decide, methods=["POST"]),
        Route("/remediations", remediations), Route("/remediations/{remediation_id}", remediation),
        Route("/remediations/{remediation_id}/{action}", remediation_action, methods=["POST"]),
        Route("/favicon.ico", no_icon), Route("/try", try_query), Route("/send", send, methods=["POST"]),
        Route("/login", login),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return GuardMiddleware(Starlette(routes=routes), guard)


async def no_icon(request: Request) -> Response:
    return Response(status_code=204)  # browsers ask for it; a 404 would be an error in their console


class Forbidden(Exception):
    pass


def forbidden() -> Response:
    return Response("refused: the form's CSRF token is missing or wrong (reload the page and try again)\n",
                    status_code=403, media_type="text/plain")


def _commit_text(saved: Any) -> str:
    return f"commit {saved.commit[:10]}" if saved.commit else "nothing changed"


def _next_url(issue_id: str | None, filters: Filters) -> str:
    query = filters.query()
    return f"/issues/{issue_id}?{query}" if issue_id else f"/issues?{query}"


def _draft_form(posted: Any) -> DraftForm:
    suggestions = [str(value) for value in posted.getlist("suggestion")]
    also: list[str] = []
    refused: list[str] = []
    for number, text in enumerate(suggestions):
        verdict = str(posted.get(f"judge-{number}") or "")
        (also if verdict == "same" else refused if verdict == "not" else []).append(text)
    extra = [line.strip() for line in str(posted.get("more") or "").splitlines() if line.strip()]
    return DraftForm(explanation=str(posted.get("explanation") or ""), question=str(posted.get("question") or ""),
                     answer=str(posted.get("answer") or ""), also_matches=also + extra, must_not_match=refused,
                     suggestions=suggestions)


"""Case documents (app/documents): the list, upload (several files at once), a document with its versions and
preview, download, replace, remove and reclassify (see app/cases/views/__init__.py).

Every route needs ``case:view`` on the case; then each document is decided by its kind, as a field set:
``fieldset.read:document.<kind>`` to see it at all (its title is information of its kind, so a document the
user may not read is not listed), ``fieldset.write:document.<kind>`` to add or change one. Each read (the
list, a document page with its preview, a download) writes one audit event with the documents and their
kinds, never a title or content; if the event cannot be written nothing is shown.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.cases.access import audited_page, load_case, readable
from app.cases.forms.documents import (DocumentKindForm, DocumentRemoveForm, DocumentReplaceForm, DocumentStripForm,
                                       DocumentUploadForm)
from app.cases.views import bp, form_status, page_arg
from app.documents import service
from app.documents.labels import ATTACHED_LABELS, KIND_LABELS
from app.documents.models import AttachedTo, Document, DocumentKind
from app.security.authz import FIELDSET_WRITE, authorize, can, gate, requires
from app.security.permissions import Permission

PER_PAGE = 25


def _register_tab() -> None:
    """The documents page in the case's sub-navigation (cases.py keeps the tabs; this module adds its own)."""
    from flask_babel import lazy_gettext as _l

    from app.cases.views import cases as case_pages

    if not any(tab.endpoint == "cases.documents" for tab in case_pages.CASE_TABS):
        tabs = list(case_pages.CASE_TABS)
        tabs.insert(len(tabs) - 1, case_pages.CaseTab("cases.documents", _l("Dokument")))
        case_pages.CASE_TABS = tuple(tabs)


_register_tab()


def _may_read(document) -> bool:
    return readable(document, document.fieldset)


def _may_write(obj, kind: DocumentKind) -> bool:
    return gate().decide(current_user, FIELDSET_WRITE + kind.fieldset, obj, fieldset=kind.fieldset)


def _document_or_404(case, document_id: str) -> Document:
    """The case's document if this user may read its kind; 404 otherwise (its existence is not confirmed)."""
    document = service.load_document(case, document_id)
    if document is None or not _may_read(document):
        abort(404)
    if document.is_removed and not can(Permission.CASE_MANAGE, case):
        abort(404)  # a removed document stays readable to the coordinator only
    return document


# ------------------------------------------------------------------ targets


def _targets(case, first_only: bool = False) -> list[tuple[str, str, AttachedTo, object]]:
    """(choice value, label, attachment point, record) of everything in the case a document may be attached to
    by this user (only the first with ``first_only``: "may this user attach anything?"). Labels name dates,
    numbers and agencies only, never a record's text."""
    from app.cases.labels import PLAN_PART_LABELS

    candidates: list[tuple[str, str, AttachedTo, object]] = [("case:", str(ATTACHED_LABELS[AttachedTo.CASE]),
                                                              AttachedTo.CASE, None)]
    for consent in case.consents:
        candidates.append((f"consent:{consent.id}", _("Samtycke till %(agency)s, %(day)s",
                                                       agency=consent.agency.name, day=consent.given_on.isoformat()),
                           AttachedTo.CONSENT, consent))
    for assessment in case.assessments:
        candidates.append((f"threat:{assessment.id}", _("Hotbedömning %(day)s", day=assessment.assessed_on.isoformat()),
                           AttachedTo.THREAT, assessment))
    for version in case.plan_versions:
        candidates.append((f"plan_version:{version.id}", _("Planversion %(n)s", n=version.number),
                           AttachedTo.PLAN_VERSION, version))
    for number, item in enumerate(case.plan_items, start=1):
        candidates.append((f"plan_item:{item.id}", _("Insats %(n)s i %(part)s (%(agency)s)", n=number,
                                                      part=PLAN_PART_LABELS[item.part],
                                                      agency=item.responsible_agency.name),
                           AttachedTo.PLAN_ITEM, item))
    for note in case.notes:
        candidates.append((f"note:{note.id}", _("Journalanteckning %(day)s", day=note.written_at.date().isoformat()),
                           AttachedTo.NOTE, note))
    for meeting in case.meetings:
        candidates.append((f"meeting:{meeting.id}", _("Ärendemöte %(day)s", day=meeting.held_on.isoformat()),
                           AttachedTo.MEETING, meeting))
    allowed = []
    for value, label, attached_to, target in candidates:
        kinds = service.CHOOSABLE.get(attached_to) or (service.kind_for(attached_to, target, None),)
        if any(_may_write(service.probe(case, attached_to, target, kind), kind) for kind in kinds):
            allowed.append((value, label, attached_to, target))
            if first_only:
                break
    return allowed


def _kind_choices() -> list[tuple[str, str]]:
    """Every kind after "follows from the attachment" (consents, assessments, notes, meetings, plan items fix
    the kind; the case itself and a plan version need a choice, checked by service.kind_for)."""
    return [("", _("Följer av vad dokumentet bifogas till"))] + [(k.value, str(label)) for k, label in KIND_LABELS.items()]


# ------------------------------------------------------------------ list


@bp.get("/<code>/documents")
@requires(Permission.CASE_VIEW)
def documents(code: str):
    """The case's documents this user may see, filterable by kind, searchable by title, sorted, paginated."""
    case = load_case(code)
    kind = _enum_arg(DocumentKind, request.args.get("kind"))
    show_removed = request.args.get("removed") == "1" and can(Permission.CASE_MANAGE, case)
    query = (request.args.get("q") or "").strip()[:100]
    sort = request.args.get("sort", "-date")
    rows = [d for d in service.documents_of(case, kind=kind, include_removed=show_removed) if _may_read(d)]
    if query:
        rows = [d for d in rows if query.casefold() in (d.title or "").casefold()]
    keys = {"date": lambda d: (d.document_date or d.created_at.date(), d.created_at),
            "title": lambda d: (d.title or "").casefold(), "kind": lambda d: str(KIND_LABELS[d.kind])}
    key = sort.lstrip("-") if sort.lstrip("-") in keys else "date"
    rows.sort(key=keys[key], reverse=sort.startswith("-"))
    pages = max(1, -(-len(rows) // PER_PAGE))
    page = min(page_arg(), pages)
    shown = rows[(page - 1) * PER_PAGE:page * PER_PAGE]
    may_upload = bool(_targets(case, first_only=True))
    return audited_page(
        "document.list", case, {d.fieldset for d in shown}, detail={"documents": str(len(shown))},
        produce=lambda: render_template("cases/documents/list.html", case=case, rows=shown, page=page, pages=pages,
                                total=len(rows), kind=kind, query=query, sort=sort, show_removed=show_removed,
                                kind_labels=KIND_LABELS, attached_labels=ATTACHED_LABELS,
                                may_upload=may_upload, may_manage=can(Permission.CASE_MANAGE, case)))


def _enum_arg(enum_type, value):
    try:
        return enum_type(value) if value else None
    except ValueError:
        return None


# ------------------------------------------------------------------ upload


def _save_upload(storage) -> str:
    """The uploaded file (werkzeug spools it) copied to a private temporary file, in blocks."""
    handle, path = tempfile.mkstemp(prefix="lots-upload-")
    with os.fdopen(handle, "wb") as out:
        shutil.copyfileobj(storage.stream, out, length=256 * 1024)
    return path


def _title_for(given: str | None, filename: str | None, several: bool) -> str:
    stem = Path((filename or "").replace("\\", "/")).stem[:120] or _("Dokument")
    if given and several:
        return f"{given} – {stem}"[:service.MAX_TITLE]
    return given or stem


@bp.route("/<code>/documents/new", methods=["GET", "POST"])
@requires(Permission.CASE_VIEW)
def document_new(code: str):
    """Attach one or several files to the case or one of its records; each refused file gets its own reason."""
    from app.documents.inspect import UploadRefused

    case = load_case(code)
    targets = _targets(case)
    if not targets:
        authorize(FIELDSET_WRITE + DocumentKind.NOTES.fieldset, case)  # audited refusal
        abort(403)
    form = DocumentUploadForm()
    form.target.choices = [(value, label) for value, label, _a, _t in targets]
    wanted = request.values.get("target") or (f"{request.args.get('to')}:{request.args.get('id', '')}"
                                              if request.args.get("to") else None)
    chosen = next((t for t in targets if t[0] == wanted), targets[0])
    if request.method == "GET":
        form.target.data = chosen[0]
    form.kind.choices = _kind_choices()
    results: list[tuple[str, str | None, dict]] = []
    #: Documents an upload duplicated that this user may read: offered on the page instead (never in a flash,
    #: which travels in the session cookie).
    duplicates: list[Document] = []
    if form.validate_on_submit():
        value, _label, attached_to, target = next(t for t in targets if t[0] == form.target.data)
        try:
            kind = service.kind_for(attached_to, target, form.kind.data or None)
        except service.DocumentError as exc:
            form.kind.errors.append(str(exc))
        else:
            gate_obj = service.probe(case, attached_to, target, kind)
            authorize(FIELDSET_WRITE + kind.fieldset, gate_obj)
            files = [f for f in form.files.data if f and f.filename]
            for upload in files:
                path = _save_upload(upload)
                prepared = None
                try:
                    prepared = service.prepare(path, filename=upload.filename, claimed_type=upload.mimetype,
                                               strip_metadata=form.strip_metadata.data)
                    service.attach(case, current_user, attached_to=attached_to, target=target, kind=kind,
                                   title=_title_for(form.title.data, upload.filename, len(files) > 1),
                                   document_date=form.document_date.data, prepared=prepared)
                except (UploadRefused, service.DocumentError) as exc:
                    results.append((prepared.filename if prepared else _("fil %(n)s", n=len(results) + 1),
                                    str(exc), {}))
                    if isinstance(exc, service.Duplicate) and _may_read(exc.document) \
                            and exc.document not in duplicates:
                        duplicates.append(exc.document)
                else:
                    results.append((prepared.filename, None, prepared.metadata))
                finally:
                    os.unlink(path)
                    if prepared:
                        prepared.close()
            stored = [r for r in results if r[1] is None]
            if stored:
                # A flash travels in the (signed, not encrypted) session cookie: it names a file by its number
                # and type, never by its name; the list it leads to shows the titles.
                total = len(results)
                for number, (name, error, metadata) in enumerate(results, start=1):
                    if error is not None:
                        continue
                    flash(_("Fil %(n)s av %(total)s är bifogad.", n=number, total=total) + (
                        " " + _("Metadata som togs bort: %(fields)s.", fields=", ".join(metadata))
                        if metadata and form.strip_metadata.data else
                        " " + _("Filen har metadata (%(fields)s) som sparades.", fields=", ".join(metadata))
                        if metadata else ""), "success")
                for number, (name, error, _m) in enumerate(results, start=1):
                    if error:
                        flash(_("Fil %(n)s av %(total)s sparades inte: %(error)s", n=number, total=total, error=error),
                              "error")
                return redirect(url_for("cases.documents", code=case.code), 303)
            form.files.errors.extend(f"{name}: {error}" for name, error, _m in results)
    status = form_status(form)
    return audited_page("document.list", case, set(),
                        lambda: (render_template("cases/documents/new.html", case=case, form=form,
                                                 max_mb=service.max_bytes() // (1024 * 1024),
                                                 duplicates=duplicates), status))


# ------------------------------------------------------------------ one document


@bp.get("/<code>/documents/<document_id>")
@requires(Permission.CASE_VIEW)
def document_detail(code: str, document_id: str):
    """A document: its versions, what it is attached to, and a preview of its first pages (rendered here)."""
    import base64

    case = load_case(code)
    document = _document_or_404(case, document_id)
    current = document.current
    may_write = _may_write(document, document.kind) and can(Permission.CASE_MANAGE, case)

    def produce():
        from app.documents.crypto import DocumentIntegrityError

        images, metadata, damaged = [], {}, False
        if not document.is_removed and current is not None:
            try:
                images, metadata = service.inspect_version(current)
            except DocumentIntegrityError:  # tampered or damaged: the page without a preview, and why
                damaged = True
        return render_template(
            "cases/documents/detail.html", case=case, document=document, current=current, damaged=damaged,
            previews=[base64.b64encode(png).decode() for png in images], kind_labels=KIND_LABELS,
            attached_labels=ATTACHED_LABELS, may_write=may_write and not document.is_removed,
            may_manage=can(Permission.CASE_MANAGE, case) and may_write and not document.is_removed,
            replace_form=DocumentReplaceForm(), remove_form=DocumentRemoveForm(), kind_form=DocumentKindForm(),
            metadata=metadata if may_write else {}, strip_form=DocumentStripForm())

    return audited_page("document.previewed", case, {document.fieldset}, produce,
                        detail={"document": str(document.id), "kind": document.kind.value})


@bp.get("/<code>/documents/<document_id>/v<int:number>")
@requires(Permission.CASE_VIEW)
def document_download(code: str, document_id: str, number: int):
    """A version's file, as an attachment: decrypted (every chunk authenticated) to a private temporary file
    first, so a damaged or tampered file is refused before a byte is sent."""
    from app.documents.crypto import DocumentIntegrityError

    case = load_case(code)
    document = _document_or_404(case, document_id)
    version = service.version_of(document, number)
    if version is None:
        abort(404)

    def produce():
        spool = tempfile.TemporaryFile(prefix="lots-download-")
        try:
            for block in service.plaintext(version):
                spool.write(block)
        except DocumentIntegrityError:
            spool.close()
            return render_template("cases/documents/damaged.html", case=case), 409
        spool.seek(0)
        response = send_file(spool, mimetype=version.media_type, as_attachment=True,
                             download_name=version.filename or "dokument", max_age=0, conditional=False, etag=False)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return audited_page("document.downloaded", case, {document.fieldset}, produce,
                        detail={"document": str(document.id), "kind": document.kind.value,
                                "version": str(version.number)})


def _write_guard(case, document) -> None:
    """Replacing, removing and reclassifying are the coordinator's (a partner only adds to its own plan item)."""
    authorize(Permission.CASE_MANAGE, case)
    authorize(FIELDSET_WRITE + document.kind.fieldset, document)
    if document.is_removed:
        abort(409)


@bp.post("/<code>/documents/<document_id>/replace")
@requires(Permission.CASE_VIEW)
def document_replace(code: str, document_id: str):
    """A new version of a document (the earlier versions stay readable to those allowed)."""
    from app.documents.inspect import UploadRefused

    case = load_case(code)
    document = _document_or_404(case, document_id)
    _write_guard(case, document)
    form = DocumentReplaceForm()
    if not form.validate_on_submit():
        flash(_("Välj en fil.") if form.csrf_token.errors == [] else _("Formuläret har gått ut. Ladda om sidan och "
                                                                     "försök igen."), "error")
        return redirect(url_for("cases.document_detail", code=case.code, document_id=document.id), 303)
    path = _save_upload(form.file.data)
    prepared = None
    try:
        prepared = service.prepare(path, filename=form.file.data.filename, claimed_type=form.file.data.mimetype,
                                   strip_metadata=form.strip_metadata.data)
        version = service.replace(document, current_user, prepared=prepared)
    except (UploadRefused, service.DocumentError) as exc:
        flash(_("Den nya versionen sparades inte: %(error)s", error=str(exc)), "error")
    else:
        flash(_("Version %(n)s är sparad.", n=version.number), "success")
    finally:
        os.unlink(path)
        if prepared:
            prepared.close()
    return redirect(url_for("cases.document_detail", code=case.code, document_id=document.id), 303)


@bp.post("/<code>/documents/<document_id>/strip")
@requires(Permission.CASE_MANAGE)
def document_strip(code: str, document_id: str):
    """Remove the metadata of the current PDF version in place (the coordinator, confirmed, audited)."""
    case = load_case(code, Permission.CASE_MANAGE)
    document = _document_or_404(case, document_id)
    _write_guard(case, document)
    form = DocumentStripForm()
    if not form.validate_on_submit():
        flash(_("Inget ändrades: bekräfta genom att kryssa i rutan."), "error")
    elif document.current is None:
        abort(409)
    else:
        try:
            service.strip_metadata(document, document.current, current_user)
        except service.DocumentError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Metadata är borttagen ur version %(n)s.", n=document.current.number), "success")
    return redirect(url_for("cases.document_detail", code=case.code, document_id=document.id), 303)


@bp.route("/<code>/documents/<document_id>/remove", methods=["GET", "POST"])
@requires(Permission.CASE_VIEW)
def document_remove(code: str, document_id: str):
    """Remove a document by marking it, with a reason (confirmed); it stays in the audit trail."""
    case = load_case(code)
    document = _document_or_404(case, document_id)
    _write_guard(case, document)
    form = DocumentRemoveForm()
    if form.validate_on_submit():
        try:
            service.remove(document, current_user, reason=form.reason.data)
        except service.DocumentError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("Dokumentet är borttaget."), "success")
            return redirect(url_for("cases.documents", code=case.code), 303)
    return audited_page("document.previewed", case, {document.fieldset},
                        lambda: (render_template("cases/documents/remove.html", case=case, document=document,
                                                 form=form, kind_labels=KIND_LABELS), form_status(form)),
                        detail={"document": str(document.id), "kind": document.kind.value})


@bp.post("/<code>/documents/<document_id>/kind")
@requires(Permission.CASE_MANAGE)
def document_kind(code: str, document_id: str):
    """Move a document to another kind (who may see it changes with it): the coordinator only, audited."""
    case = load_case(code, Permission.CASE_MANAGE)
    document = _document_or_404(case, document_id)
    _write_guard(case, document)
    form = DocumentKindForm()
    if not form.validate_on_submit():
        flash(_("Inget ändrades: välj en sort och bekräfta genom att kryssa i rutan."), "error")
        return redirect(url_for("cases.document_detail", code=case.code, document_id=document.id), 303)
    kind = DocumentKind(form.kind.data)
    authorize(FIELDSET_WRITE + kind.fieldset, service.probe(case, document.attached_to, None, kind))
    try:
        service.change_kind(document, current_user, kind=kind)
    except service.DocumentError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Dokumentet är flyttat till %(kind)s.", kind=KIND_LABELS[kind]), "success")
    return redirect(url_for("cases.document_detail", code=case.code, document_id=document.id), 303)

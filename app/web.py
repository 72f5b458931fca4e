"""Request plumbing: language, time zone, transaction boundary, headers, error pages."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context, jsonify, render_template, request, session
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app.extensions import babel, db

STOCKHOLM = ZoneInfo("Europe/Stockholm")


#: The browser's last language choice, kept after logout (so the login page speaks it too).
LANGUAGE_COOKIE = "lots_lang"


def select_locale() -> str:
    """The session's choice (the language switch), else the signed-in user's saved choice, else this browser's
    last choice (a cookie that survives logout), else Swedish (also outside a request, e.g. the CLI)."""
    languages = current_app.config["LOTS_LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    from flask_login import current_user

    saved = getattr(current_user, "language", None) if getattr(current_user, "is_authenticated", False) else None
    if saved in languages:
        return saved
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in languages:
        return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_babel(app) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=lambda: "Europe/Stockholm",
        default_translation_directories=str(app.root_path + "/translations"),
    )


#: The numeric patterns Lots uses, as strftime patterns: the same text in every locale, without Babel's
#: per-call pattern parsing (a list page formats hundreds of dates).
_NUMERIC_PATTERNS = {"yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M", "yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%M:%S",
                     "yyyy-MM-dd": "%Y-%m-%d"}


def local_datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """Render a UTC datetime in Europe/Stockholm, Swedish style (2026-11-25 14:05)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    numeric = _NUMERIC_PATTERNS.get(fmt)
    if numeric is not None:
        return value.astimezone(STOCKHOLM).strftime(numeric)
    return format_datetime(value, fmt)


def local_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_datetime(value, "yyyy-MM-dd")
    return value.isoformat()


def _commit_at_boundary(response):
    """One transaction per request: commit unless the request failed."""
    if response.status_code >= 500:
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("commit failed at request boundary")
        return error_page(500)
    return response


def _rollback_on_error(exc):
    if exc is not None:
        db.session.rollback()


def _no_store(response):
    if current_user.is_authenticated or request.endpoint and request.endpoint.startswith("security."):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def error_page(code: int):
    """Render an error page that leaks nothing about the cause."""
    messages = {
        400: _("Begäran kunde inte behandlas. Kontrollera uppgifterna och försök igen."),
        403: _("Du har inte behörighet till det här."),
        404: _("Sidan eller uppgiften finns inte."),
        405: _("Åtgärden går inte att utföra på det här sättet."),
        409: _("Det gick inte att utföra, eftersom uppgiften har ändrats eller tagits bort. Ladda om sidan."),
        413: _("Det du skickade är för stort."),
        429: _("För många försök på kort tid. Vänta en stund och försök igen."),
        500: _("Ett oväntat fel inträffade. Felet är loggat; försök igen senare."),
    }
    titles = {
        400: _("Felaktig begäran"),
        403: _("Åtkomst nekad"),
        404: _("Sidan finns inte"),
        405: _("Metoden är inte tillåten"),
        409: _("Uppgiften har ändrats"),
        413: _("För stor förfrågan"),
        429: _("För många försök"),
        500: _("Något gick fel"),
    }
    code = code if code in messages else 500
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": titles[code], "message": messages[code]}), code
    return render_template("errors/error.html", code=code, title=titles[code], message=messages[code]), code


def _handle_http(exc: HTTPException):
    body, code = error_page(exc.code or 500)
    response = current_app.make_response((body, code))
    # Keep the headers the exception carries: Allow on a 405 (RFC 9110), Retry-After on a 429.
    for name, value in exc.get_headers():
        if name.lower() in ("allow", "retry-after", "www-authenticate"):
            response.headers[name] = value
    return response


def _handle_any(exc: Exception):
    db.session.rollback()
    if current_app.config["LOTS_ENV"] == "production":
        # Exception messages can carry bound values (personal data): log the type only.
        current_app.logger.error("unhandled %s at %s", type(exc).__name__, request.endpoint)
    else:
        current_app.logger.exception("unhandled %s at %s", type(exc).__name__, request.endpoint)
    return error_page(500)


def _refuse_nul_bytes():
    """400 for a NUL byte in any query or form value: no browser sends one, and PostgreSQL refuses to store or
    compare it (a 500 otherwise). The JSON API validates its own bodies and answers in JSON."""
    if request.path.startswith("/api/"):
        return None
    pairs = list(request.args.lists())
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        pairs += list(request.form.lists())
    if any("\x00" in value for _name, values in pairs for value in values):
        return render_template(
            "errors/error.html", code=400, title=_("Ogiltiga tecken"),
            message=_("Uppgifterna innehåller ett otillåtet tecken (NUL). Inget har sparats.")), 400
    return None


def error_summary(form) -> list[tuple[str, str, str]]:
    """Every field error of a form, nested rows included, as (field id, label, message), for the summary at the
    top of the form that links to each field (templates/macros/forms.html: form_errors)."""
    found: list[tuple[str, str, str]] = []

    def walk(fields, prefix=""):
        for field in fields:
            if field.type in ("CSRFTokenField", "HiddenField"):
                continue
            if field.type == "FieldList":
                for number, entry in enumerate(field.entries, start=1):
                    walk([entry], f"{prefix}{field.label.text} {number}: ")
                continue
            if field.type == "FormField":
                walk(field.form, prefix)
                continue
            for message in field.errors if isinstance(field.errors, list) else []:
                found.append((field.id, f"{prefix}{field.label.text}", str(message)))

    if form is not None:
        walk(form)
    return found


def init_app(app) -> None:
    app.before_request(_refuse_nul_bytes)
    app.after_request(_commit_at_boundary)
    app.after_request(_no_store)
    app.teardown_request(_rollback_on_error)
    app.register_error_handler(HTTPException, _handle_http)
    if not app.config.get("TESTING") or app.config.get("LOTS_HANDLE_ERRORS_IN_TESTS", True):
        app.register_error_handler(Exception, _handle_any)
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals["languages"] = app.config["LOTS_LANGUAGES"]
    app.jinja_env.globals["g"] = g
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["error_summary"] = error_summary


def page_arg() -> int:
    """The ?page= of a list, clamped to 1..100000."""
    from flask import request

    return min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)


def per_page() -> int:
    from flask import current_app

    return current_app.config.get("LOTS_PAGE_SIZE", 25)


def form_status(form) -> int:
    """400 for a submitted form with errors (the page is re-rendered with what was typed), else 200."""
    return 400 if form.errors else 200

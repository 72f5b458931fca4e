"""The login page as a real browser receives it: security headers and a CSP that holds.

No bypass_csp here: the page runs under its own Content-Security-Policy.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import PageErrors

#: Records CSP violations in the page itself, in addition to the console.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline'));
});
"""


def _directives(csp: str) -> dict[str, str]:
    out = {}
    for part in csp.split(";"):
        words = part.strip().split(None, 1)
        if words:
            out[words[0].lower()] = words[1] if len(words) > 1 else ""
    return out


@pytest.mark.browser
def test_login_page_headers_and_csp(browser, live_server):
    context = browser.new_context(locale="sv-SE")
    try:
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        errors = PageErrors(page)
        response = page.goto(live_server.url + live_server.paths["login"], wait_until="load")
        assert response.status == 200
        headers = response.all_headers()

        csp = headers.get("content-security-policy", "")
        directives = _directives(csp)
        assert directives.get("default-src") == "'self'", f"CSP lacks default-src 'self': {csp!r}"
        assert directives.get("frame-ancestors") == "'none'", f"CSP lacks frame-ancestors 'none': {csp!r}"
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp, f"CSP allows inline code: {csp!r}"
        assert "'unsafe-eval'" not in csp, f"CSP allows eval: {csp!r}"
        assert headers.get("x-content-type-options") == "nosniff"
        assert headers.get("referrer-policy") == "no-referrer"

        problems = errors.take()
        csp_problems = [p for p in problems if "Content Security Policy" in p or "Refused to" in p]
        assert not csp_problems, "CSP violations on the login page:\n" + "\n".join(csp_problems)
        assert not problems, "console errors on the login page:\n" + "\n".join(problems)
        assert page.evaluate("() => window.__cspViolations") == []

        # Control: the policy is really enforced, and the checks above would see a violation.
        page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1';"
            " document.head.appendChild(s); }"
        )
        page.wait_for_function("() => window.__cspViolations.length > 0", timeout=5000)
        assert page.evaluate("() => window.__inline") is None, "an inline script ran despite the CSP"
        assert any("Content Security Policy" in p for p in errors.take())
    finally:
        context.close()

"""Which query arguments a view reads, so the robustness tests send junk one argument at a time only where
it can change what the view does.

A view that never looks at ``?sort=`` answers ``?sort=junk`` exactly as it answers no argument at all, so a
request per unread argument asserts nothing new. ``query_reads`` records, while a view function runs, every
name it asks ``request.args`` for (``get``, ``getlist``, ``[...]``, ``in``: also what WTForms does with
``Form(request.args)``). A view that walks the arguments (iterates, copies, ``to_dict``) is recorded as reading
all of them. The app-wide hooks before the view (the NUL-byte refusal walks every argument) are not recorded:
they treat every argument alike, and every request still carries all of the junk at once.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Iterable, Iterator

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict

ALL = "*"


class _Log:
    def __init__(self) -> None:
        self.active = False
        self.names: set[str] = set()

    def note(self, name: str) -> None:
        if self.active:
            self.names.add(name)


class _RecordingArgs(ImmutableMultiDict):
    log: _Log | None = None

    def _note(self, name: str) -> None:
        if _RecordingArgs.log is not None:
            _RecordingArgs.log.note(name)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        self._note(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)

    def _walked(self):
        self._note(ALL)

    def __iter__(self):
        self._walked()
        return super().__iter__()

    def keys(self):
        self._walked()
        return super().keys()

    def items(self, multi=False):
        self._walked()
        return super().items(multi)

    def lists(self):
        self._walked()
        return super().lists()

    def values(self):
        self._walked()
        return super().values()

    def listvalues(self):
        self._walked()
        return super().listvalues()

    def to_dict(self, flat=True):
        self._walked()
        return super().to_dict(flat)

    def copy(self):
        self._walked()
        return super().copy()


@contextmanager
def query_reads(app) -> Iterator[_Log]:
    """While inside, ``log.names`` collects the query-argument names the views read (``ALL`` if walked)."""
    log = _Log()
    originals = dict(app.view_functions)

    def watched(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            log.active = True
            try:
                return view(*args, **kwargs)
            finally:
                log.active = False

        return wrapped

    old_storage = Request.parameter_storage_class
    app.view_functions.update({name: watched(view) for name, view in originals.items()})
    Request.parameter_storage_class = _RecordingArgs
    _RecordingArgs.log = log
    try:
        yield log
    finally:
        Request.parameter_storage_class = old_storage
        _RecordingArgs.log = None
        app.view_functions.clear()
        app.view_functions.update(originals)


def junk_requests(client, url: str, params: Iterable[str], junk: str, *, repeated: bool = False,
                  one_at_a_time: bool = True) -> Iterator[tuple[str, object]]:
    """GET ``url`` with junk; yields (what, response) for the caller to assert on.

    First every argument in ``params`` set to ``junk`` at once ("all"). Then, one at a time, each argument the
    view reads (recorded on that request and on one without arguments); with ``repeated`` also sent three
    times (``[junk, "1", junk]``), as a list a form can send. ``one_at_a_time=False``: the first request only.
    """
    params = list(params)
    with query_reads(client.application) as log:
        client.get(url)
        yield "all", client.get(url, query_string={name: junk for name in params})
    if not one_at_a_time:
        return
    read = params if ALL in log.names else [name for name in params if name in log.names]
    for name in read:
        yield name, client.get(url, query_string={name: junk})
        if repeated:
            yield name + "[]", client.get(url, query_string={name: [junk, "1", junk]})

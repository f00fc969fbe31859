"""Keep health details and identifying data out of log lines and error reports (issue 4; HIPAA §164.312(b)).

Our own code logs references and codes only. This module is the safety net for everything else that reaches a
log handler or a 500 report: Django attaches the HTTP request to django.request / django.security records,
exceptions quote the values they choke on (a PostgreSQL IntegrityError's "Key (email)=(…)", a ValidationError's
"… is not a real date"), SQL debug lines carry their parameters, and the default 500 e-mail lists POST data,
GET data, cookies and the query string.

- ``HealthDataFilter`` sits on every handler in settings.LOGGING and rewrites the record in place, so every
  handler after it (and pytest's caplog) sees the clean version; it is idempotent.
- ``HealthDataExceptionReporterFilter`` / ``HealthDataExceptionReporter`` are DEFAULT_EXCEPTION_REPORTER_FILTER
  and DEFAULT_EXCEPTION_REPORTER: a 500 e-mail to ADMINS (or the DEBUG page) keeps the traceback's file, line and
  code, and the names of parameters and variables, but none of their values.
"""

import datetime
import decimal
import enum
import functools
import logging
import re
import uuid
from collections.abc import Mapping

from django.utils.functional import Promise
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

REDACTED = "[redacted]"
WITHHELD = "[message withheld: it can quote submitted data]"

# Extra keys whose text is personal or health data whatever the logger (compared in lower case). A number under
# one of these names is an id (e.g. extra={"patient": patient.pk}) and stays.
SENSITIVE_KEYS = frozenset(
    {
        "address",
        "answers",
        "body",
        "cleaned_data",
        "comment",
        "data",
        "date_of_birth",
        "dob",
        "email",
        "fields",
        "first_name",
        "form",
        "full_name",
        "get",
        "insurance_carrier",
        "insurance_member_id",
        "last_name",
        "member_id",
        "message",
        "missing",
        "name",
        "note",
        "params",
        "patient",
        "payload",
        "phone",
        "post",
        "query_string",
        "reason_detail",
        "red_flag_answers",
        "red_flags",
        "sql",
    }
)
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# Values that format as themselves. Anything else (a request, a form, a model instance, a dict of POST data) is
# logged as its type name: its str() or repr() could hold anything.
_PLAIN = (
    str,
    int,
    float,
    type(None),
    enum.Enum,
    uuid.UUID,
    decimal.Decimal,
    datetime.date,
    datetime.time,
    datetime.timedelta,
)
# "…?q=sciatica&x=1": a query string may be what someone typed into a GET form.
_QUERY_STRING = re.compile(r"\?[^\s\"'#]*=[^\s\"']*")
# Exception messages kept as they are: they describe the connection, never the data.
_MESSAGE_SAFE_EXCEPTIONS = ("ConnectionError", "TimeoutError", "OperationalError", "InterfaceError")


def _strip_query(text: str) -> str:
    return _QUERY_STRING.sub("?[query withheld]", text)


def _clean(value, depth: int = 0):
    if isinstance(value, Promise):  # a lazily translated message written by a developer
        value = str(value)
    if isinstance(value, str):
        return _strip_query(value)
    if isinstance(value, _PLAIN):
        return value
    if depth < 3 and isinstance(value, Mapping):
        return {str(k): _clean_item(str(k), v, depth + 1) for k, v in value.items()}
    if depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(v, depth + 1) for v in value]
    return f"<{type(value).__name__}>"


def _clean_item(key: str, value, depth: int = 0):
    if key.lower() in SENSITIVE_KEYS and not isinstance(value, (bool, int, type(None))):
        return REDACTED
    return _clean(value, depth)


def _message_is_safe(exc: BaseException) -> bool:
    return any(cls.__name__ in _MESSAGE_SAFE_EXCEPTIONS for cls in type(exc).__mro__)


class WithheldMessage(Exception):  # noqa: N818 (a stand-in, not an error of ours)
    """Stands in for a logged exception: same type name, same traceback and chain, no message."""

    def __str__(self):
        return WITHHELD


@functools.lru_cache(maxsize=256)
def _stand_in_class(original: type) -> type:
    # Named like the original so that the traceback still reads "django.db.utils.IntegrityError: …".
    return type(
        original.__name__,
        (WithheldMessage,),
        {"__module__": original.__module__, "__qualname__": original.__qualname__},
    )


def withhold_message(exc: BaseException | None, _seen=None) -> BaseException | None:
    """The exception without its message (and its causes likewise), its traceback kept."""
    if exc is None or isinstance(exc, WithheldMessage) or _message_is_safe(exc):
        return exc
    seen = _seen if _seen is not None else {}
    if id(exc) in seen:
        return seen[id(exc)]
    stand_in = _stand_in_class(type(exc))().with_traceback(exc.__traceback__)
    seen[id(exc)] = stand_in
    stand_in.__cause__ = withhold_message(exc.__cause__, seen)
    stand_in.__context__ = withhold_message(exc.__context__, seen)
    stand_in.__suppress_context__ = exc.__suppress_context__
    return stand_in


class HealthDataFilter(logging.Filter):
    """Lets every record through, without request objects, form data, SQL, query strings or exception messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django's request loggers attach the request (its repr carries the query string; its POST the form).
        record.__dict__.pop("request", None)
        if record.name.startswith("django.db.backends"):
            # SQL debug lines quote the statement and its parameters: the values patients typed.
            record.msg, record.args = "SQL statement (statement and parameters withheld)", ()
        if isinstance(record.msg, BaseException):  # logger.exception(exc), as django-ninja does
            record.msg = f"{type(record.msg).__module__}.{type(record.msg).__qualname__}: {WITHHELD}"
        elif isinstance(record.msg, Mapping):  # python-json-logger merges a dict message into the line
            record.msg = _clean(record.msg)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = _strip_query(record.msg)
        if record.args:
            if isinstance(record.args, Mapping):
                record.args = _clean(record.args)
            else:
                record.args = tuple(_clean(arg) for arg in record.args)
        for key in [k for k in record.__dict__ if k not in _STANDARD_ATTRS]:
            record.__dict__[key] = _clean_item(key, record.__dict__[key])
        if record.exc_info and record.exc_info[1] is not None:
            exc_type, exc, tb = record.exc_info
            record.exc_info = (exc_type, withhold_message(exc), tb)
            record.exc_text = None  # formatted again from the stand-in
        return True


# --- 500 reports (e-mails to ADMINS, the DEBUG page) -------------------------------------------------------------


class HealthDataExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hides every POST value, cookie (the session among them), query string and local variable, DEBUG or not.

    Django's own filter hides only what a view marks with @sensitive_post_parameters / @sensitive_variables and
    nothing at all when DEBUG is on; every form of this site takes personal or health data.
    """

    def is_active(self, request):
        return True

    def get_post_parameters(self, request):
        if request is None:
            return {}
        cleansed = request.POST.copy()
        for key in cleansed:
            cleansed.setlist(key, [self.cleansed_substitute])
        return cleansed

    def get_safe_cookies(self, request):
        return dict.fromkeys(getattr(request, "COOKIES", {}), self.cleansed_substitute)

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for key in ("QUERY_STRING", "HTTP_REFERER", "HTTP_COOKIE", "wsgi.input"):
            if key in meta:
                meta[key] = self.cleansed_substitute
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        # Locals hold the form, its cleaned_data, the request and the model instances being saved.
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


class HealthDataExceptionReporter(ExceptionReporter):
    """The report's parts that Django does not pass through the filter: GET, files, full URL, exception text."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        hidden = self.filter.cleansed_substitute
        if self.request is not None:
            data["request_GET_items"] = [(key, hidden) for key in self.request.GET]
            data["request_FILES_items"] = [(key, hidden) for key in self.request.FILES]
            data["request_insecure_uri"] = _strip_query(data.get("request_insecure_uri", ""))
        if self.exc_value is not None and not _message_is_safe(self.exc_value):
            data["exception_value"] = WITHHELD
        data.pop("exception_notes", None)
        data["unicode_hint"] = ""  # a slice of the text that failed to decode
        if data.get("template_info"):
            data["template_info"] = {**data["template_info"], "message": WITHHELD}
        seen = {}  # one stand-in per exception, so the report still groups frames by their exception
        for frame in data.get("frames", []):
            if frame.get("exc_cause") is not None:
                frame["exc_cause"] = withhold_message(frame["exc_cause"], seen)
        return data

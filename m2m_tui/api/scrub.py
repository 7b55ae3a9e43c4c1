"""Keeping the client's secrets out of every error it raises.

A server may echo the password or a token in ``errorMessage`` (or in a header we quote). The
client knows its secrets (app secret, password, Basic auth value, every bearer and session
token it was given), so it masks each of them, in the forms a server might echo them, in all
the text of an error before it leaves. :func:`guard_calls` also turns any other exception a
call raises into an :class:`UnexpectedFailure` named by type only, so every failure of the
client is a :class:`ThingSpaceError` with a plain message.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import inspect
import json
import logging
import traceback
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

from pydantic import SecretStr

from m2m_tui.api.errors import ThingSpaceError, UnexpectedFailure

log = logging.getLogger("m2m_tui.api")

MASK = "***"
#: Tokens remembered beyond the credentials (an old token may still be echoed back).
TOKENS_KEPT = 64
#: Shorter secrets are not masked: masking a 1-3 character string shreds every message
#: ("ThingS***ace i*** unreachable" for a password "p"), and such a secret guards nothing.
MIN_SECRET_LENGTH = 4

ClassT = TypeVar("ClassT", bound=type)


def _forms(secret: str) -> set[str]:
    """The secret as text, and as a server would echo it inside JSON or a URL."""
    if len(secret) < MIN_SECRET_LENGTH:
        return set()
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret),
    }
    return {form for form in forms if form}


class Scrubber:
    """The secrets one client knows, and the means to mask them in text and errors."""

    def __init__(self) -> None:
        self._fixed: set[str] = set()
        self._tokens: OrderedDict[str, None] = OrderedDict()
        self._ordered: tuple[str, ...] = ()

    def credentials(self, app_key: str, app_secret: SecretStr, password: SecretStr) -> None:
        """Remember the app secret, the password and the Basic auth value built from them."""
        secret = app_secret.get_secret_value()
        basic = base64.b64encode(f"{app_key}:{secret}".encode()).decode("ascii")
        for value in (secret, password.get_secret_value(), basic):
            self._fixed |= _forms(value)
        self._rebuild()

    def token(self, value: SecretStr | None) -> None:
        """Remember a bearer or session token as soon as it is issued."""
        if value is None:
            return
        for form in _forms(value.get_secret_value()):
            self._tokens[form] = None
            self._tokens.move_to_end(form)
        while len(self._tokens) > TOKENS_KEPT * 5:
            self._tokens.popitem(last=False)
        self._rebuild()

    def _rebuild(self) -> None:
        # Longest first, so a secret containing another is masked whole.
        self._ordered = tuple(sorted(self._fixed | set(self._tokens), key=len, reverse=True))

    def text(self, value: str) -> str:
        for secret in self._ordered:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def error(self, exc: ThingSpaceError) -> ThingSpaceError:
        """Mask secrets in every text field of ``exc`` (in place) and return it."""
        for name, value in list(vars(exc).items()):
            if isinstance(value, str):
                setattr(exc, name, self.text(value))
        exc.args = tuple(self.text(a) if isinstance(a, str) else a for a in exc.args)
        return exc


def _unexpected(exc: Exception, call: str) -> UnexpectedFailure:
    # The traceback's frames name code lines, never values: safe to log, useful to debug.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.debug("unexpected %s in %s:\n%s", exc.__class__.__name__, call, frames)
    return UnexpectedFailure(f"unexpected failure in {call} ({exc.__class__.__name__})")


def _scrubber_of(owner: object) -> Scrubber:
    scrubber = getattr(owner, "_scrubber", None)
    return scrubber if isinstance(scrubber, Scrubber) else Scrubber()


def _guard_coroutine(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def guarded(self: object, *args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(self, *args, **kwargs)
        except ThingSpaceError as exc:
            raise _scrubber_of(self).error(exc) from None
        except Exception as exc:
            raise _scrubber_of(self).error(_unexpected(exc, fn.__name__)) from None

    return guarded


def _guard_generator(fn: Callable[..., AsyncGenerator[Any, None]]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def guarded(self: object, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        try:
            async with contextlib.aclosing(fn(self, *args, **kwargs)) as inner:
                async for item in inner:
                    yield item
        except ThingSpaceError as exc:
            raise _scrubber_of(self).error(exc) from None
        except Exception as exc:
            raise _scrubber_of(self).error(_unexpected(exc, fn.__name__)) from None

    return guarded


def guard_calls(*private: str) -> Callable[[ClassT], ClassT]:
    """Class decorator: guard every public ``async def`` (and the ``private`` ones named).

    Applied to the class, so a call added later is guarded without anyone remembering to.
    """

    def decorate(cls: ClassT) -> ClassT:
        for name, value in list(vars(cls).items()):
            if name.startswith("_") and name not in private:
                continue
            if inspect.isasyncgenfunction(value):
                setattr(cls, name, _guard_generator(value))
            elif inspect.iscoroutinefunction(value):
                setattr(cls, name, _guard_coroutine(value))
        return cls

    return decorate

"""Messages between the app and its screens: the app posts down, screens post up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the app imports these messages before its first frame
    from m2m_tui.desk.actions import SubmittedRequest


class RequestSubmitted(Message):
    """ThingSpace accepted a request; screens listing requests refresh."""

    def __init__(self, request: SubmittedRequest) -> None:
        super().__init__()
        self.request = request


class RequestFinished(Message):
    """A request of this session reached a final state (what it made stale can refresh)."""

    def __init__(self, request: SubmittedRequest, state: str) -> None:
        super().__init__()
        self.request = request
        self.state = state


class SessionChanged(Message):
    """The session may have changed under a screen (a profile picked, a call that used, renewed
    or lost the tokens): the app reads the bars' state again. Screens post it; they never
    repaint the bars themselves."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SessionChanged)

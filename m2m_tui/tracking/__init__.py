"""Request tracking: the durable journal (sqlite3), the callback listener (aiohttp), and the
plain events they emit. No UI: nothing here imports Textual or ``m2m_tui.ui``.

Submodules are imported by their users, not here, so that importing the package stays cheap
(the listener pulls in aiohttp and pydantic; the journal needs only the standard library).
"""

"""The support desk without the screen: settings, the session, every request, the journal reads.

Plain async Python that imports no Textual (an ``import-linter`` contract keeps it so): every
behaviour a support engineer relies on is tested here headless, and the UI only shows desk
state and calls desk methods. Layers: ``ui -> desk -> tracking, api``.
"""

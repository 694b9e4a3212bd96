"""The Bot Framework edge: the only package that imports botbuilder.

It turns HTTP into activities (endpoint), activities into ``TurnInput`` and ``Reply`` into
activities (handler), and builds the adapter. Moving to another SDK means rewriting this package only.
"""

"""Adaptive Card builders: pure functions from a view and a language to a card dict (version 1.5).

Nothing here imports a bot SDK; every card a user can receive is validated against the official
Adaptive Card 1.5 schema in the tests and kept readable on a phone (text wraps, at most two columns).
"""

"""Proactive alerts: subscriptions, the countdown ladder, Message Center and sender alerts.

Plain Python apart from the one Teams edge (``bot.teams.proactive``). The flow is: rules decide what
is due (pure), the ledger claims it in the database (exactly once), delivery sends it under the
Teams rate limits (retries, typed failures), the scheduler runs it all on one process at a time
(lease). Operators rehearse and run it with ``python -m bot alerts``.
"""

"""SMTP AUTH Readiness: a Teams bot for the Exchange Online SMTP AUTH Basic-auth retirement.

Only ``bot.teams`` may import the Bot Framework SDK; everything else is plain Python so it can move
to another SDK (the Bot Framework SDK is in maintenance).
"""

__version__ = "0.1.0"

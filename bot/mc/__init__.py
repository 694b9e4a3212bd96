"""Message Center logic with no I/O: turning Graph serviceUpdateMessage dicts into comparable
versions (``post``), saying what changed between two versions (``diff``), and deciding which posts
the bot follows and when a live post contradicts the timeline we ship (``watch``).

Graph access, storage and cards live elsewhere and hand these modules plain dicts.
"""

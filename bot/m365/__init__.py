"""Microsoft 365 access layer: reads the admin's own tenant through Microsoft Graph and Exchange Online.

``settings`` says which app and which clouds, ``tokens`` signs in as that app with msal, ``http``
owns the one HTTP client (retries, paging, error mapping), ``graph`` and ``exchange`` are thin typed
wrappers, and ``errors`` turns every failure into something an admin can act on, in English or
Japanese. Nothing here imports the Bot Framework SDK.
"""

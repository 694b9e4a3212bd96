"""The admin's own tenant: where its data comes from (the built-in demo tenant, or Microsoft Graph and
Exchange Online), the last good copy of each piece, and how fresh it is."""

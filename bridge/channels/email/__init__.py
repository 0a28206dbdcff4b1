"""The email channel: config.py (SMTP and recipients), format.py (subject and bodies), channel.py (SMTP sending)."""

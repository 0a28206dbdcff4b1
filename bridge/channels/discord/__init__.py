"""The Discord channel: config.py (webhook settings), format.py (embeds and their packing), channel.py (posting)."""

"""Tongban's pure core: conversation flows as state machines. No I/O, no Telegram, no SQL.

A flow receives an event and the person's saved state and returns effects; the shell in
``bot/`` applies them.
"""

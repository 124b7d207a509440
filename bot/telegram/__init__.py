"""The Telegram adapter: updates in, Bot API calls out."""

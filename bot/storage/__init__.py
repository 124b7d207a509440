"""Database models, engine and the queries the bot runs."""

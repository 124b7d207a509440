"""Tongban's shell: Telegram adapter, storage, scheduler, i18n and the command line."""

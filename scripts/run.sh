#!/usr/bin/env bash
# Set up (or refresh) the bot's virtual environment in .venv, then run the bot.
# Extra arguments go to `tongban run`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv .venv ""
exec .venv/bin/tongban run "$@"

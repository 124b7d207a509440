"""Run the sandbox on its own: `python -m bot.sandbox [--port 8081]`.

It prints the web chat address and the settings a bot needs to talk to it; the bot runs
separately. `tongban sandbox` runs both together.
"""

from __future__ import annotations

import argparse
import asyncio

from bot.sandbox.botapi import SandboxBotAPI


async def _serve(port: int, rate_limits: bool) -> None:
    sandbox = SandboxBotAPI(rate_limits=rate_limits)
    await sandbox.start(port=port)
    print(f"Sandbox web chat: {sandbox.page_url}")
    print(f"Bot token:        {sandbox.token}")
    print(f"Bot API base URL: {sandbox.base_url}")
    print(f"File base URL:    {sandbox.base_file_url}")
    print("Nothing leaves this computer. Press Ctrl+C to stop.")
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8081, help="port on 127.0.0.1 (default 8081)")
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="do not answer 429 to fast senders"
    )
    args = parser.parse_args()
    try:
        asyncio.run(_serve(args.port, not args.no_rate_limits))
    except KeyboardInterrupt:
        print("Sandbox stopped.")
    except OSError as error:
        message = f"Cannot listen on port {args.port} ({error.strerror}); try --port 8082"
        raise SystemExit(message) from None


if __name__ == "__main__":
    main()

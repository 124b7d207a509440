"""The ``tongban`` command: run the bot and administer people, invites and the database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Settings, load_settings
from bot.invites import InviteError, create_invite, deep_link, list_invites, parse_duration, revoke
from bot.logs import configure as configure_logging
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from flows.roles import Role

if TYPE_CHECKING:
    from bot.telegram.dispatch import Dispatcher

ROLES = [role.value for role in Role]


def command_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tongban",
        description="Tongban (同伴): a peer-support companion bot for Telegram.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser(
        "run",
        help="upgrade the database and run the bot",
        description=(
            "Upgrade the database schema, then run the bot (polling, or webhook when "
            "TONGBAN_MODE=webhook). Needs TELEGRAM_BOT_TOKEN."
        ),
    )

    db = sub.add_parser("db", help="database schema", description="Database schema commands.")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser(
        "upgrade",
        help="bring the schema to the newest version",
        description="Apply every Alembic migration not yet applied.",
    )
    db_sub.add_parser(
        "new-key",
        help="print a new encryption key",
        description=(
            "Print a new Fernet key for TONGBAN_ENCRYPTION_KEYS (keys are comma-separated, "
            "newest first). Nothing is changed."
        ),
    )
    db_sub.add_parser(
        "rotate-key",
        help="re-encrypt stored free text with the newest key",
        description=(
            "Re-encrypt every stored free text with the first key in TONGBAN_ENCRYPTION_KEYS. "
            "Put the new key first and keep the old ones after it; once this has run, the old "
            "keys can be dropped."
        ),
    )

    backup = db_sub.add_parser(
        "backup",
        help="write a consistent backup of the database to a file",
        description=(
            "Write a backup to PATH while the bot runs: SQLite's online backup API, or pg_dump "
            "(custom format) for PostgreSQL. Encrypted texts stay encrypted: keep "
            "TONGBAN_ENCRYPTION_KEYS with the backup, in another place."
        ),
    )
    backup.add_argument("path", help="the backup file to write (must not exist)")
    restore = db_sub.add_parser(
        "restore",
        help="restore a backup into the configured database",
        description=(
            "Restore a file written by 'tongban db backup' into TONGBAN_DATABASE_URL (SQLite, "
            "or pg_restore for PostgreSQL). Stop the bot first; 'tongban run' upgrades the "
            "schema of an older backup when it starts."
        ),
    )
    restore.add_argument("path", help="the backup file")
    restore.add_argument(
        "--replace",
        action="store_true",
        help="overwrite a database that already holds people",
    )

    sandbox = sub.add_parser(
        "sandbox",
        help="the local sandbox: a simulated Telegram and a web chat",
        description=(
            "Run the bot against a simulated Telegram on this computer, with a multi-person "
            "web chat. Nothing leaves the machine; it has its own database "
            "(TONGBAN_SANDBOX_DATABASE)."
        ),
    )
    sandbox.add_argument("--port", type=int, default=None, help="port of the page and Bot API")
    sandbox.add_argument(
        "--fresh", action="store_true", help="start with an empty sandbox database"
    )

    invite = sub.add_parser(
        "invite",
        help="create, list and revoke invites",
        description="Invites are the only way anyone gets a role.",
    )
    invite_sub = invite.add_subparsers(dest="invite_command", required=True, metavar="ACTION")
    create = invite_sub.add_parser(
        "create",
        help="create an invite link",
        description="Create an invite and print its link and code.",
    )
    create.add_argument("--role", required=True, choices=ROLES, help="the role the invite gives")
    create.add_argument(
        "--expires", default="7d", help="lifetime such as 30m, 12h, 7d, 2w (default 7d)"
    )
    create.add_argument(
        "--uses", type=int, default=1, help="how many people may use it (default 1)"
    )
    create.add_argument("--note", default=None, help="a private note for staff, e.g. which program")
    listing = invite_sub.add_parser(
        "list", help="list invites", description="List invites (usable ones by default)."
    )
    listing.add_argument(
        "--all", action="store_true", help="include used, expired and revoked invites"
    )
    rev = invite_sub.add_parser(
        "revoke", help="revoke an invite", description="Revoke an invite so nobody can use it."
    )
    rev.add_argument("invite_id", type=int, help="the invite's id from 'tongban invite list'")

    users = sub.add_parser(
        "users", help="list people and change roles", description="People who redeemed an invite."
    )
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    ulist = users_sub.add_parser(
        "list", help="list people", description="List people: id, role, language, alias, state."
    )
    ulist.add_argument("--role", choices=ROLES, help="only this role")
    setrole = users_sub.add_parser(
        "set-role", help="change someone's role", description="Change a person's role."
    )
    setrole.add_argument("person_id", type=int, help="the person's id from 'tongban users list'")
    setrole.add_argument("role", choices=ROLES)
    udelete = users_sub.add_parser(
        "delete",
        help="erase a person and their data",
        description="Erase a person and everything about them (as /deleteme does).",
    )
    udelete.add_argument("person_id", type=int, help="the person's id from 'tongban users list'")
    udelete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sub.add_parser(
        "risk-check", help="assess messages for crisis language (see its --help)", add_help=False
    )
    _activity_parser(sub)
    _room_parser(sub)
    flag_cmd = sub.add_parser(
        "flags", help="early-warning flags", description="Early-warning flags from check-ins."
    )
    flag_sub = flag_cmd.add_subparsers(dest="flags_command", required=True, metavar="ACTION")
    flag_list = flag_sub.add_parser(
        "list", help="list flags", description="List open early-warning flags (newest first)."
    )
    flag_list.add_argument("--all", action="store_true", help="include closed episodes")
    flag_close = flag_sub.add_parser(
        "close",
        help="close an open flag",
        description="Close an open early-warning flag that a person has looked at and that "
        "the rules keep open (a stopped medication stays open until the client says they take "
        "it again; close it when, for instance, their doctor stopped it). The same stop is "
        "not raised again.",
    )
    flag_close.add_argument("flag_id", type=int, help="the flag's id from 'tongban flags list'")
    report = sub.add_parser(
        "report",
        help="the program's report (HTML, CSV)",
        description="Aggregates for funders and program managers: one self-contained HTML "
        "file with charts, and a CSV of every table. Cells under 5 people are suppressed.",
    )
    report.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
    report.add_argument("--out", default="report.html", help="the HTML file (report.html)")
    report.add_argument("--csv", default=None, help="a folder for one CSV per table")
    return parser


def _activity_parser(sub: Any) -> None:
    from flows.activities import AUDIENCES, KINDS
    from flows.text import LOCALES

    activity = sub.add_parser(
        "activity",
        help="peer activities: create, list, edit, cancel",
        description=(
            "Activities led by peer workers. Times are on the program's clock "
            "(TONGBAN_DEFAULT_TIMEZONE). Invitations, changes and cancellations are sent by the "
            "running bot, out of each person's quiet hours."
        ),
    )
    act_sub = activity.add_subparsers(dest="activity_command", required=True, metavar="ACTION")
    create = act_sub.add_parser(
        "create",
        help="announce an activity",
        description="Announce an activity: everyone it is for is invited (unless they opted out).",
    )
    create.add_argument("--title", required=True, help="what it is called, as people will see it")
    create.add_argument("--kind", required=True, choices=list(KINDS), help="what it is about")
    create.add_argument("--at", required=True, help='start, e.g. "2026-12-10 19:00"')
    create.add_argument("--minutes", type=int, default=90, help="how long (default 90)")
    where = create.add_mutually_exclusive_group(required=True)
    where.add_argument("--place", help="the address of the community centre")
    where.add_argument("--online", action="store_true", help="it meets in the online room")
    create.add_argument("--capacity", type=int, required=True, help="how many places")
    create.add_argument("--audience", required=True, choices=list(AUDIENCES), help="who it is for")
    create.add_argument("--language", required=True, choices=list(LOCALES), help="spoken in")
    create.add_argument(
        "--leader", action="append", required=True, help="a leader's alias (repeat for more)"
    )
    listing = act_sub.add_parser(
        "list", help="list activities", description="Activities not yet over (--all: every one)."
    )
    listing.add_argument("--all", action="store_true", help="include past ones")
    edit = act_sub.add_parser(
        "edit",
        help="change an activity",
        description="Change an activity that has not started; everyone who answered is told.",
    )
    edit.add_argument("activity_id", type=int, help="the id from 'tongban activity list'")
    edit.add_argument("--title")
    edit.add_argument("--at", help='new start, e.g. "2026-12-10 19:30"')
    edit.add_argument("--minutes", type=int)
    moved = edit.add_mutually_exclusive_group()
    moved.add_argument("--place", help="a new address")
    moved.add_argument("--online", action="store_true", help="it now meets in the online room")
    edit.add_argument(
        "--capacity", type=int, help="more places move people up from the waiting list"
    )
    edit.add_argument("--kind", choices=list(KINDS), help="what it is about")
    edit.add_argument(
        "--audience",
        choices=list(AUDIENCES),
        help="who it is for; those it no longer includes are told and lose their answer",
    )
    edit.add_argument("--language", choices=list(LOCALES), help="spoken in")
    edit.add_argument(
        "--leader", action="append", help="the leaders' aliases, all of them (repeat for more)"
    )
    cancel = act_sub.add_parser(
        "cancel",
        help="cancel an activity",
        description="Cancel an activity; everyone who answered is told.",
    )
    cancel.add_argument("activity_id", type=int, help="the id from 'tongban activity list'")


def _room_parser(sub: Any) -> None:
    room = sub.add_parser(
        "room",
        help="group rooms: create, invite, edit, list, close, sessions held",
        description=(
            "Online peer-support groups held through the bot. A room belongs to an online "
            "activity (open while it runs) or meets every week (open then, on the program's "
            "clock). Invitations are sent by the running bot."
        ),
    )
    room_sub = room.add_subparsers(dest="room_command", required=True, metavar="ACTION")
    create = room_sub.add_parser(
        "create", help="make a room", description="Make a room; its leaders are invited."
    )
    create.add_argument("--title", required=True, help="what it is called, as members see it")
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument("--activity", type=int, help="the online activity it belongs to")
    when.add_argument("--weekly", help='a standing group\'s weekday and time, e.g. "tue 19:00"')
    create.add_argument("--minutes", type=int, default=90, help="how long it is open (90)")
    create.add_argument(
        "--leader", action="append", required=True, help="a leader's alias (repeat for more)"
    )
    invite = room_sub.add_parser(
        "invite",
        help="invite members",
        description=(
            "Invite clients and relatives by alias; with no alias, a room of an activity "
            "invites everyone going to it."
        ),
    )
    invite.add_argument("room_id", type=int, help="the id from 'tongban room list'")
    invite.add_argument("alias", nargs="*", help="aliases of clients or relatives")
    edit = room_sub.add_parser(
        "edit",
        help="change a standing group",
        description=(
            "Change a standing group (a room of an activity follows its activity). Everyone "
            "in it is told once of a new weekday, time or length; a leader taken off leaves "
            "the room and is told; a new one is invited."
        ),
    )
    edit.add_argument("room_id", type=int, help="the id from 'tongban room list'")
    edit.add_argument("--title", help="what it is called, as members see it")
    edit.add_argument("--weekday", help="the day it meets: mon, tue, wed, thu, fri, sat, sun")
    edit.add_argument("--opens", help='the time it opens on the program\'s clock, e.g. "19:30"')
    edit.add_argument("--minutes", type=int, help="how long it is open")
    edit.add_argument(
        "--leader", action="append", help="the leaders' aliases, all of them (repeat for more)"
    )
    room_sub.add_parser("list", help="list rooms", description="Every room and its members.")
    room_sub.add_parser(
        "sessions",
        help="the register of sessions held",
        description=(
            "Every session of a room that happened (a message was written in it): its date, "
            "room, leaders, members present, messages, messages taken back and crisis "
            "messages held back."
        ),
    )
    close = room_sub.add_parser(
        "close", help="close a room", description="Close a room for good; nobody can post."
    )
    close.add_argument("room_id", type=int, help="the id from 'tongban room list'")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["risk-check"]:
        return _risk_check(arguments[1:])
    args = command_parser().parse_args(arguments)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    handler = _HANDLERS[args.command]
    try:
        return handler(settings, args)
    except (InviteError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import BOTFATHER_HELP, run

    if settings.telegram_bot_token is None:
        print(BOTFATHER_HELP, file=sys.stderr)
        print("No token, so starting the sandbox instead.\n", file=sys.stderr)
        return _sandbox(settings, argparse.Namespace(port=settings.sandbox_port, fresh=False))
    run(settings)
    return 0


def _sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.sandbox.launch import serve

    try:
        asyncio.run(
            serve(
                settings,
                port=args.port or settings.sandbox_port,
                fresh=args.fresh,
                database=settings.sandbox_database,
            )
        )
    except OSError as exc:
        print(
            f"error: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); try --port 8090",
            file=sys.stderr,
        )
        return 2
    return 0


def _risk_check(arguments: list[str]) -> int:
    from bot.safety.risk_check import run

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    lexicon = str(settings.risk_lexicon_file) if settings.risk_lexicon_file else None
    return run(arguments, sys.stdin, sys.stdout, lexicon)


def _db(settings: Settings, args: argparse.Namespace) -> int:
    if args.db_command in ("backup", "restore"):
        from pathlib import Path

        from bot.storage.backup import BackupError
        from bot.storage.backup import backup as write_backup
        from bot.storage.backup import restore as read_backup

        try:
            if args.db_command == "backup":
                print(write_backup(settings.database_url, Path(args.path)))
            else:
                print(read_backup(settings.database_url, Path(args.path), replace=args.replace))
        except BackupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.db_command == "new-key":
        from bot.crypto import new_key

        print(new_key())
        return 0
    if args.db_command == "rotate-key":
        from bot.storage.admin import rotate_encryption

        if not settings.encryption_key_list:
            print("error: set TONGBAN_ENCRYPTION_KEYS first (newest key first)", file=sys.stderr)
            return 2

        async def rotate(db: Database) -> int:
            count = await rotate_encryption(db, settings.encryption_key_list)
            print(f"re-encrypted {count} stored texts with the newest key")
            return 0

        return _with_db(settings, rotate)
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def _with_db(settings: Settings, work: Callable[[Database], Coroutine[Any, Any, int]]) -> int:
    async def go() -> int:
        db = Database(settings.database_url, settings.database_pool_size)
        try:
            return await work(db)
        finally:
            await db.dispose()

    upgrade(settings.database_url)
    return asyncio.run(go())


def _invite(settings: Settings, args: argparse.Namespace) -> int:
    if args.invite_command == "create":
        expires = parse_duration(args.expires)

        async def create(db: Database) -> int:
            new = await create_invite(db, Role(args.role), expires, args.uses, "cli", args.note)
            username = settings.bot_username or await db.app_setting("bot_username")
            print(deep_link(username, new.code))
            print(f"code: {new.code}")
            print(
                f"invite {new.id}: role {new.role.value}, {new.max_uses} use(s), "
                f"expires {new.expires_at:%Y-%m-%d %H:%M} UTC"
            )
            if username is None:
                print(
                    "(the bot's username is not known yet: start the bot once, or set "
                    "TONGBAN_BOT_USERNAME; meanwhile send /start <code> to the bot)"
                )
            return 0

        return _with_db(settings, create)
    if args.invite_command == "list":

        async def show(db: Database) -> int:
            invites = await list_invites(db, include_inactive=args.all)
            print(f"{'id':>5}  {'role':<12} {'used':>9}  {'expires (UTC)':<16}  state")
            for inv in invites:
                state = (
                    "revoked"
                    if inv.revoked_at
                    else ("used up" if inv.uses >= inv.max_uses else "open")
                )
                print(
                    f"{inv.id:>5}  {inv.role:<12} {inv.uses:>4}/{inv.max_uses:<4}  "
                    f"{inv.expires_at:%Y-%m-%d %H:%M}  {state}"
                )
            if not invites:
                print("(no invites)")
            return 0

        return _with_db(settings, show)

    async def do_revoke(db: Database) -> int:
        if await revoke(db, args.invite_id):
            print(f"invite {args.invite_id} revoked")
            return 0
        print(f"error: no active invite with id {args.invite_id}", file=sys.stderr)
        return 1

    return _with_db(settings, do_revoke)


def _users(settings: Settings, args: argparse.Namespace) -> int:
    from bot import operations
    from bot.storage.admin import list_people, renamed_aliases

    if args.users_command == "list":

        async def show(db: Database) -> int:
            rows = await list_people(db, args.role)
            renamed = await renamed_aliases(db)
            print(f"{'id':>5}  {'role':<12} {'locale':<8} {'alias':<16} {'state':<12} joined (UTC)")
            for p in rows:
                state = "paused" if p.paused else ("active" if p.onboarded_at else "onboarding")
                if p.blocked_at:
                    state = "blocked bot"
                note = "  (alias renamed at upgrade: it clashed with another ignoring case)"
                print(
                    f"{p.id:>5}  {p.role:<12} {p.locale:<8} {(p.alias or '-'):<16} {state:<12} "
                    f"{p.created_at:%Y-%m-%d %H:%M}" + (note if p.id in renamed else "")
                )
            if not rows:
                print("(nobody yet)")
            return 0

        return _with_db(settings, show)

    if args.users_command == "delete":
        if not args.yes:
            answer = input(f"Erase person {args.person_id} and all their data? Type 'erase': ")
            if answer.strip() != "erase":
                print("nothing was erased")
                return 1

        async def erase(db: Database) -> int:
            return await _tell(
                settings,
                db,
                lambda d, bot: operations.erase(d, bot, args.person_id),
                f"person {args.person_id} and their data were erased",
                args.person_id,
            )

        return _with_db(settings, erase)

    async def change(db: Database) -> int:
        return await _tell(
            settings,
            db,
            lambda d, bot: operations.set_role(d, bot, args.person_id, Role(args.role)),
            f"person {args.person_id} is now {args.role}",
            args.person_id,
        )

    return _with_db(settings, change)


async def _tell(settings: Settings, db: Database, act: Any, done: str, person_id: int) -> int:
    """Run an operation people must hear about, then say what was done and who was told."""
    from bot import operations

    told = await operations.with_bot(settings, db, act)
    if told is None:
        print(f"error: no person with id {person_id}", file=sys.stderr)
        return 1
    print(done)
    if told.delivered:
        print(f"{told.delivered} message(s) sent to the people concerned")
    if told.undelivered:
        print(
            f"warning: {told.undelivered} message(s) to the people concerned could not be sent "
            "(no TELEGRAM_BOT_TOKEN, or Telegram unreachable); tell them another way",
            file=sys.stderr,
        )
    return 0


def _flags(settings: Settings, args: argparse.Namespace) -> int:
    from bot.storage.flag_store import close_flag, list_flags
    from bot.storage.models import utcnow

    if args.flags_command == "close":

        async def close(db: Database) -> int:
            async with db.transaction() as session:
                closed = await close_flag(session, args.flag_id, utcnow())
            if closed is None:
                print(f"error: no open flag with id {args.flag_id}", file=sys.stderr)
                return 1
            print(f"flag {args.flag_id} closed")
            return 0

        return _with_db(settings, close)

    async def show(db: Database) -> int:
        async with db.sessions() as session:
            rows = await list_flags(session, include_cleared=args.all)
        print(f"{'id':>5}  {'person':>6}  {'rule':<14} {'raised (UTC)':<16}  {'state':<8} evidence")
        for flag in rows:
            state = "closed" if flag.cleared_at else "open"
            print(
                f"{flag.id:>5}  {flag.person_id:>6}  {flag.rule:<14} {flag.raised_at:%Y-%m-%d %H:%M}  "
                f"{state:<8} {'; '.join(flag.evidence)}"
            )
        if not rows:
            print("(no flags)")
        return 0

    return _with_db(settings, show)


def _activity(settings: Settings, args: argparse.Namespace) -> int:
    from bot.activities import command_line
    from flows.activities import InvalidActivity

    return _feature_command(
        settings,
        lambda dispatcher, db, now: command_line(dispatcher.activities, db, args, now),
        InvalidActivity,
    )


def _room(settings: Settings, args: argparse.Namespace) -> int:
    from bot.rooms import InvalidRoom, command_line

    return _feature_command(
        settings,
        lambda dispatcher, db, now: command_line(dispatcher.rooms, db, args, now),
        InvalidRoom,
    )


def _feature_command(
    settings: Settings,
    run: Callable[[Dispatcher, Database, datetime], Awaitable[list[str]]],
    invalid: type[ValueError],
) -> int:
    """A command that acts through the bot's own services (what the chat uses), printing
    its lines; ``invalid`` (bad arguments) is an error message and exit status 2."""
    from bot.host import Host
    from bot.i18n import Translator
    from bot.storage.models import utcnow
    from bot.telegram.dispatch import Dispatcher

    async def act(db: Database) -> int:
        host = Host(db, Translator(), settings)
        await host.start()
        try:
            lines = await run(Dispatcher(host), db, utcnow())
        except invalid as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print("\n".join(lines))
        return 0

    return _with_db(settings, act)


def _report(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date
    from pathlib import Path

    from bot.report import Report, gather, to_html, write_csv

    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError:
        print("error: --from and --to are dates like 2026-10-01", file=sys.stderr)
        return 2
    if end < start:
        print("error: --to is before --from", file=sys.stderr)
        return 2

    made: list[Report] = []

    async def make(db: Database) -> int:
        async with db.sessions() as session:
            made.append(await gather(session, start, end))
        return 0

    _with_db(settings, make)
    Path(args.out).write_text(to_html(made[0]), encoding="utf-8")
    print(f"report written to {args.out}")
    if args.csv:
        files = write_csv(made[0], Path(args.csv))
        print(f"{len(files)} CSV files written to {args.csv}")
    return 0


_HANDLERS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "run": _run,
    "sandbox": _sandbox,
    "db": _db,
    "invite": _invite,
    "users": _users,
    "flags": _flags,
    "activity": _activity,
    "room": _room,
    "report": _report,
}

if __name__ == "__main__":
    raise SystemExit(main())

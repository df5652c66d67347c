"""The `shopyard` command: a thin wrapper around manage.py with the few
verbs an operator needs on day one."""

import argparse
import os
import sys


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopyard.settings")
    import django

    django.setup()


def _call(*args):
    from django.core.management import call_command

    call_command(*args)


def cmd_migrate(args):
    _setup()
    if args.check:
        return _migrate_check()
    _ensure_home()
    _call("migrate", "--noinput")
    return 0


def _migrate_check():
    """List what `shopyard migrate` would apply, changing nothing; 1 when anything is pending."""
    from shopyard.operations.schema import pending_migrations

    pending = pending_migrations()
    if not pending:
        print("No pending migrations.")
        return 0
    print(f"{len(pending)} pending migrations:")
    for name in pending:
        print(f"  {name}")
    return 1


def cmd_backup(args):
    _setup()
    return _management("backup", args.directory)


def cmd_restore(args):
    _setup()
    return _management("restore", args.directory, *(["--yes"] if args.yes else []))


def _management(*argv):
    """A management command with Django's handling of CommandError (message, exit 1, no traceback)."""
    from django.core.management import execute_from_command_line

    execute_from_command_line(["shopyard", *argv])
    return 0


def _ensure_home():
    from django.conf import settings

    settings.SHOPYARD_HOME.mkdir(parents=True, exist_ok=True)
    settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)


def start_periodic_timer():
    """Run the periodic jobs (unpaid-order timeout, event retries) in this
    process when no Celery beat does it (no BROKER_URL); None otherwise.
    The server runs without the autoreloader, so this is the serving process."""
    from django.conf import settings

    if settings.BROKER_URL or settings.PERIODIC_INTERVAL_SECONDS <= 0:
        return None
    from shopyard.core.periodic import PeriodicTimer

    return PeriodicTimer(settings.PERIODIC_INTERVAL_SECONDS).start()


def _serve(host, port):
    from django.core.management import call_command

    from shopyard.core.checks import refuse_unsafe_defaults

    refuse_unsafe_defaults()

    start_periodic_timer()
    call_command("runserver", f"{host}:{port}", "--noreload", "--insecure")


def _allow_host(host):
    """Serving on an address must also accept requests for it (0.0.0.0: any name)."""
    if "SHOPYARD_ALLOWED_HOSTS" in os.environ:
        return
    extra = "*" if host in ("0.0.0.0", "::") else host
    os.environ["SHOPYARD_ALLOWED_HOSTS"] = f"127.0.0.1,localhost,testserver,{extra}"


def cmd_demo(args):
    os.environ.setdefault("SHOPYARD_DEBUG", "0")
    # a demo: development secrets allowed, the simulated gateway takes the "payments"
    os.environ.setdefault("SHOPYARD_DEMO", "1")
    os.environ.setdefault("SHOPYARD_SIMULATED_GATEWAY", "1")
    _allow_host(args.host)
    # the links load_demo prints point at the address being served
    os.environ.setdefault("SHOPYARD_BASE_URL", f"http://{args.host}:{args.port}")
    _setup()
    _ensure_home()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    call_command("load_demo", "--if-empty")
    if not args.no_serve:
        print(f"Storefront: http://{args.host}:{args.port}/   Seller console: /console/   Admin: /admin/")
        _serve(args.host, args.port)


def cmd_serve(args):
    _allow_host(args.host)
    _setup()
    _ensure_home()
    _serve(args.host, args.port)


def cmd_run_periodic(_args):
    _setup()
    _call("run_periodic")


def cmd_manage(args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopyard.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["shopyard", *args.rest])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="shopyard", description="Shopyard e-commerce platform")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="migrate, load demo data when empty, print accounts, serve")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", default="8000")
    demo.add_argument("--no-serve", action="store_true", help="prepare the demo and exit")
    demo.set_defaults(func=cmd_demo)
    serve = sub.add_parser("serve", help="serve the site (development server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", default="8000")
    serve.set_defaults(func=cmd_serve)
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--check", action="store_true",
                         help="list pending migrations and exit 1 if there are any; apply nothing")
    migrate.set_defaults(func=cmd_migrate)
    backup = sub.add_parser("backup", help="back up the database and media into a new directory")
    backup.add_argument("directory")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="restore the database and media from a backup directory")
    restore.add_argument("directory")
    restore.add_argument("--yes", action="store_true", help="confirm: the database and media are replaced")
    restore.set_defaults(func=cmd_restore)
    sub.add_parser("run-periodic", help="run the periodic jobs once").set_defaults(func=cmd_run_periodic)
    manage = sub.add_parser("manage", help="any manage.py command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())

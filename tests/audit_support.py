"""What the audit chain's tests share: the CLI's audit commands, and tampering with a table behind the
application's back."""

from sqlalchemy import create_engine


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["audit", *args])


def is_sqlite(app) -> bool:
    return app.config["DATABASE_URL"].startswith("sqlite")


def tamper(app, statement, foreign_keys: bool = True) -> None:
    """Change a table behind the application's back, its append-only triggers out of the way (and the
    seals' foreign key too, unless foreign_keys), as someone with write access to the database could."""
    table = statement.table.name
    engine = create_engine(app.config["DATABASE_URL"])  # on SQLite without the app's foreign_keys pragma
    try:
        with engine.begin() as connection:
            if is_sqlite(app):
                # pysqlite would run the DDL outside the transaction: begin it by hand, after the pragma.
                connection.exec_driver_sql(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
                connection.exec_driver_sql("BEGIN")
                for action in ("update", "delete"):
                    connection.exec_driver_sql(f"DROP TRIGGER {table}_no_{action}")
            else:
                connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
                if not foreign_keys:  # a foreign key is a system trigger: only replica mode skips it
                    connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            changed = connection.execute(statement).rowcount
            if is_sqlite(app):
                for action in ("UPDATE", "DELETE"):
                    connection.exec_driver_sql(
                        f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                    )
            else:
                connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
    finally:
        engine.dispose()
    assert changed == 1, f"the tampering statement changed {changed} rows"

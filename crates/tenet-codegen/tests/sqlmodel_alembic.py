"""Loads a module made by `tenet gen sqlmodel` for the Todo example, inserts a user and a task
through its classes relying on every default (in the source database and in one made by
`create_all()`), then asks Alembic what it would change between the metadata and each database.

Usage: sqlmodel_alembic.py MODULE.py EMPTY_URL SOURCE_URL
Prints `inserted URL user_id created_at task_status` per database, then `diff []` per database;
exits non-zero on a difference.
"""

import importlib.util
import sys
import warnings

warnings.simplefilter("error")

import sqlalchemy as sa  # noqa: E402
import sqlmodel  # noqa: E402
from alembic.autogenerate import compare_metadata  # noqa: E402
from alembic.migration import MigrationContext  # noqa: E402


def engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))


def insert(module, db: sa.Engine) -> None:
    with sqlmodel.Session(db) as session:
        user = module.Users(email="someone@example.com")
        session.add(user)
        session.commit()
        task = module.Tasks(user_id=user.id, title="relies on defaults")
        session.add(task)
        session.commit()
        assert user.id is not None and user.created_at is not None, user
        assert task.status == "todo" and task.updated_at is not None, task
        print("inserted", user.id is not None, user.created_at is not None, task.status)


def main(path: str, empty_url: str, source_url: str) -> None:
    spec = importlib.util.spec_from_file_location("generated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    metadata = sqlmodel.SQLModel.metadata
    metadata.create_all(engine(empty_url))
    differences = 0
    for url in (source_url, empty_url):
        db = engine(url)
        insert(module, db)
        with db.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "compare_server_default": True},
            )
            diff = compare_metadata(context, metadata)
        print("diff", diff)
        differences += len(diff)
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main(*sys.argv[1:])

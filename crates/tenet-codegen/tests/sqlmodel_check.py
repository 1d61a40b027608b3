"""Loads a module made by `tenet gen sqlmodel`, creates its tables in an empty database, and
reads every table of the database it was generated from through its classes.

Usage: sqlmodel_check.py MODULE.py EMPTY_URL SOURCE_URL
Prints `schema.table rows` for every table class, then each row as JSON.
"""

import importlib.util
import json
import sys
import warnings

# A field shadowing a SQLModel attribute, or any SQLAlchemy warning, fails the check.
warnings.simplefilter("error")

import sqlalchemy as sa  # noqa: E402
import sqlmodel  # noqa: E402


def engine(url: str) -> sa.Engine:
    # The brief's driver is psycopg2; SQLAlchemy 2.1 would pick psycopg 3 for postgresql://.
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))


def main(path: str, empty_url: str, source_url: str) -> None:
    spec = importlib.util.spec_from_file_location("generated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sqlmodel.SQLModel.metadata.create_all(engine(empty_url))
    tables = [
        cls
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, sqlmodel.SQLModel) and hasattr(cls, "__table__")
    ]
    with sqlmodel.Session(engine(source_url)) as session:
        for cls in tables:
            rows = session.exec(sqlmodel.select(cls)).all()
            table = cls.__table__
            name = f"{table.schema or 'public'}.{table.name}"
            print(f"{name} {len(rows)}")
            for row in rows:
                if row is not None:
                    print(f"row {name} {json.dumps(row.model_dump(), default=str, sort_keys=True)}")


if __name__ == "__main__":
    main(*sys.argv[1:])

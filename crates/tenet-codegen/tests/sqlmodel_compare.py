"""Loads a module made by `tenet gen sqlmodel` and asks Alembic what it would change between
its metadata and the database the module was generated from.

Usage: sqlmodel_compare.py MODULE.py URL
Prints `diff <n>` and one line per difference, then every warning SQLAlchemy or Alembic gave
(a column whose type reflection did not recognize is not compared at all, so it counts as a
difference); exits non-zero when there is any.
"""

import importlib.util
import sys
import warnings


import sqlalchemy as sa  # noqa: E402
import sqlmodel  # noqa: E402
from alembic.autogenerate import compare_metadata  # noqa: E402
from alembic.migration import MigrationContext  # noqa: E402


def main(path: str, url: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        diff = compare(path, url)
    print("diff", len(diff))
    for d in diff:
        print(" ", d)
    for w in caught:
        print("  warning:", w.message)
    sys.exit(1 if diff or caught else 0)


def compare(path: str, url: str) -> list:
    spec = importlib.util.spec_from_file_location("generated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    metadata = sqlmodel.SQLModel.metadata
    schemas = sorted({t.schema for t in metadata.tables.values()}, key=lambda s: s or "")
    db = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with db.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_schemas": any(s is not None for s in schemas),
                # Only the schemas the module maps: others are not its business.
                "include_name": lambda name, type_, parent: type_ != "schema"
                or name in schemas,
            },
        )
        return compare_metadata(context, metadata)


if __name__ == "__main__":
    main(*sys.argv[1:])

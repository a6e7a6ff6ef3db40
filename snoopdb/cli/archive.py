"""The archive command group: what reads an archive elsewhere than here (`snoopdb
archive bigquery-ddl`: BigQuery)."""

from __future__ import annotations

import argparse

from snoopdb.cli.context import Context
from snoopdb.cli.parsing import add_command
from snoopdb.commands import archive


def cmd_archive_bigquery_ddl(args: argparse.Namespace, ctx: Context) -> int:
    """Print the BigQuery statements that read an archive in GCS: an external table over
    its Parquet files, partitioned by their folders (release, job, run), and the
    audit_event view over it, with PostgreSQL's columns (data as JSON) and the fields
    pulled out of data.

    Run them with `bq query --use_legacy_sql=false` or in the console; the dataset must
    exist. A query filtering on release, job or run reads only those runs' files.

    Example: snoopdb archive bigquery-ddl gs://my-bucket/snoopdb --dataset my_project.snoopdb
    """
    print(archive.bigquery_ddl(args.uri, args.dataset, args.table))
    return 0


def add_archive(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "archive", help="Archives elsewhere: the BigQuery statements over one in GCS.",
        description="Archives elsewhere: the BigQuery statements over one in GCS (runs are "
                    "archived with `snoopdb runs archive`).\n\nExample: snoopdb archive "
                    "bigquery-ddl gs://my-bucket/snoopdb --dataset snoopdb",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    archive_sub = parser.add_subparsers(dest="archive_command", metavar="COMMAND")
    ddl = add_command(archive_sub, "bigquery-ddl", cmd_archive_bigquery_ddl)
    ddl.add_argument("uri", metavar="gs://BUCKET/PREFIX",
                     help="the archive, as `snoopdb runs archive --to` wrote it")
    ddl.add_argument("--dataset", required=True, metavar="D",
                     help="the BigQuery dataset (DATASET or PROJECT.DATASET)")
    ddl.add_argument("--table", default="audit_event", metavar="NAME",
                     help="the view's name (default audit_event); the external table is "
                          "NAME_files")

"""``streamforge schema``: the wire contracts as JSON Schema."""

from __future__ import annotations

from pathlib import Path

import click

from streamforge.schemas.jsonschema import export_schemas


@click.group()
def schema() -> None:
    """Work with the wire contracts."""


@schema.command("export")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
def export(out_dir: Path) -> None:
    """Write one JSON Schema per contract into DIR."""
    try:
        paths = export_schemas(out_dir)
    except OSError as exc:
        raise click.ClickException(f"cannot write to {out_dir}: {exc.strerror}") from None
    for path in paths:
        click.echo(str(path))

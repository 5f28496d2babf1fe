"""``python -m streamforge`` runs the CLI."""

from streamforge.cli.main import main

main()

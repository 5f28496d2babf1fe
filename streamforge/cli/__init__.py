"""The ``streamforge`` command line: headless operation for operators and CI."""

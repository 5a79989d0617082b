"""``python -m hashwatt``."""

from hashwatt.cli.main import run

run()

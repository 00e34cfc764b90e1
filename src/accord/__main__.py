"""``python -m accord``: the command line (as the ``accord`` script)."""

from accord.cli import main

main()

"""`python -m jixiao_xl` runs the command line."""

from .cli import main

main()

"""`python -m fireline`: the same as the `fireline` command."""

from .cli import main

if __name__ == "__main__":
    main()

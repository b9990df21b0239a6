"""`python -m fireline.cli`: the same as the `fireline` command."""

from . import main

if __name__ == "__main__":
    main()

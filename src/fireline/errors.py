"""Errors a user can fix. The CLI prints them without a traceback and exits 2."""

from __future__ import annotations


class UserError(Exception):
    """Bad input: the message names the file, line or field at fault.

    `where` is a place (a file and line, a URL); `field` is the name of the library argument at fault
    (`service`, `since`). A library user reads `service: unknown service 'x'`; the CLI shows the
    same error as its option, `--service: unknown service 'x'` (`for_cli`).
    """

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, field: str | None = None) -> None:
        self.message = message
        self.where = where
        self.field = field
        place = where or field
        super().__init__(f"{place}: {message}" if place else message)

    def for_cli(self) -> str:
        if self.field and not self.where:
            flags = "/".join(f"--{name.lstrip('-').replace('_', '-')}" for name in self.field.split("/"))
            return f"{flags}: {self.message}"
        return str(self)

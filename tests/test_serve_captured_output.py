"""What a command run by `fireline serve` prints is what it would print without a server: a library's
warning raised while it runs goes to the server's log, not into the CLI's output.

Regression: CI saw duckdb's "fetch_arrow_table() is deprecated" (raised inside Ibis) at the end of a
forwarded `alerts report --json`. Deprecation warnings are hidden by default, but pandas turns them on
for a moment inside `warnings.catch_warnings()`, which is process-wide: a command thread that raised
one in that moment printed it into its captured stderr."""

from __future__ import annotations

import io
import sys
import threading
import warnings

from fireline.server import remote


def _warn_like_a_library() -> None:
    warnings.warn("fetch_arrow_table() is deprecated, use to_arrow_table() instead.", DeprecationWarning,
                  stacklevel=1)


def test_a_warning_inside_a_command_goes_to_the_server_log_not_its_output(monkeypatch):
    server_log = io.StringIO()
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(sys, "stderr", server_log)
    # outside pytest, a shown warning is written to sys.stderr (pytest records them instead)
    monkeypatch.setattr(warnings, "_showwarnmsg_impl",
                        lambda msg: sys.stderr.write(warnings._formatwarnmsg(msg)))  # type: ignore[attr-defined]
    seen: dict[str, str] = {}

    def command() -> None:
        with remote.captured() as (out, err):
            print("the command's answer")
            with warnings.catch_warnings():
                # what another thread's catch_warnings() can do to the process's filters at any time
                warnings.simplefilter("always", DeprecationWarning)
                _warn_like_a_library()
            seen["out"], seen["err"] = out.getvalue(), err.getvalue()

    thread = threading.Thread(target=command)
    thread.start()
    thread.join()
    assert seen == {"out": "the command's answer\n", "err": ""}
    assert "fetch_arrow_table() is deprecated" in server_log.getvalue()


def test_a_warning_outside_any_command_reaches_whoever_handled_it_before(recwarn):
    with remote.captured():
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("always", DeprecationWarning)
        _warn_like_a_library()
    assert [str(w.message) for w in recwarn] == ["fetch_arrow_table() is deprecated, use to_arrow_table() instead."]

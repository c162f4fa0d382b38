"""The didkit worker process: reads JSON requests on stdin, answers one JSON line per request.

Started by :class:`sceau_credentials.proofs.didkit_suite.DidkitWorker` as
``python -m sceau_credentials.proofs._didkit_worker``. Each request is
``[function name, [string arguments]]``; each answer is ``[true, result]`` or
``[false, error message]``. It leaves through ``os._exit`` when its input closes, so the Python
finalization that didkit's Rust runtime can crash never runs (see ``didkit_suite``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
from typing import Any, Final

_ALLOWED: Final = frozenset({"issue_credential", "verify_credential", "get_version"})


def _answer(loop: asyncio.AbstractEventLoop, didkit: Any, request: Any) -> list[Any]:
    name, args = request
    if name not in _ALLOWED or not all(isinstance(arg, str) for arg in args):
        return [False, f"request {name!r} is not allowed"]

    async def invoke() -> str:
        result = getattr(didkit, name)(*args)
        if inspect.isawaitable(result):
            result = await result
        return str(result)

    try:
        return [True, loop.run_until_complete(invoke())]
    except Exception as error:  # noqa: BLE001 - didkit raises DIDKitException or ValueError
        return [False, str(error)]


def main() -> None:
    import didkit

    loop = asyncio.new_event_loop()
    for line in sys.stdin.buffer:
        try:
            response = _answer(loop, didkit, json.loads(line))
        except (ValueError, TypeError) as error:
            response = [False, f"malformed request: {error}"]
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

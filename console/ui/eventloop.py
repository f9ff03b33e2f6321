"""The qasync event loop, with one fix: `run_until_complete` ends by processing Qt events once more
(qasync does so after run_forever returns), and a coroutine step delivered then (a runner result, a
timer) ran with no running loop, failing with "no running event loop" inside httpx or asyncio.timeout.
Here the loop counts as running for that last pass too."""

from __future__ import annotations

import asyncio
from typing import Any

import qasync


class GuiEventLoop(qasync.QEventLoop):
    _completing = 0

    def run_forever(self) -> None:
        try:
            super().run_forever()
        finally:
            if self._completing:
                asyncio.events._set_running_loop(self)  # for qasync's last processEvents pass

    def run_until_complete(self, future: Any) -> Any:
        self._completing += 1
        try:
            return super().run_until_complete(future)
        finally:
            self._completing -= 1
            asyncio.events._set_running_loop(None)

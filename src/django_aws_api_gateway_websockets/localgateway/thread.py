"""The local gateway on its own event loop in a background thread, for synchronous code:
a ``live_server`` test, a demo script that also runs Django in the same process."""

from __future__ import annotations

import asyncio
import threading

from .server import LocalGateway


class GatewayThread:
    """``with GatewayThread(LocalGateway(config, port=0)) as gateway: ...`` or
    ``start()`` / ``stop()``."""

    def __init__(self, gateway: LocalGateway) -> None:
        self.gateway = gateway
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="local-gateway", daemon=True
        )

    def start(self) -> LocalGateway:
        """Raises what binding raised (``OSError`` for a port in use), with the thread
        stopped."""
        self.thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.gateway.start(), self.loop).result(timeout=30)
        except BaseException:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()
            raise
        return self.gateway

    def stop(self) -> None:
        """Closes every connection (1001, with ``$disconnect``) and stops the loop."""
        asyncio.run_coroutine_threadsafe(self.gateway.stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

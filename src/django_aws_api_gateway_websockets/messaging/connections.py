"""The Management API's other two verbs: ``GET @connections/{id}`` (is the connection
still there?) and ``DELETE @connections/{id}`` (close it).

Calls run on the process's sending loop (``transport.get_sender``), so they work from
any thread and never use the caller's loop. They share the send's decisions
(``policy.judge``): 2xx is :attr:`Verdict.SENT` (there / closed), 410 is
:attr:`Verdict.GONE`, 429 and 5xx are retried with back-off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence

import aiohttp
from botocore.awsrequest import AWSRequest
from yarl import URL

from .policy import Failure, Verdict, backoff_delay, judge
from .recipients import Endpoints, Row, new_signer
from .signing import ManagementApiSigner
from .transport import Pacer, SendSettings, get_sender

logger = logging.getLogger(__name__)

#: A request to make: the session's primary key, the connection's URL and host.
_Request = tuple[int, str, str]


def close_connections(rows: Iterable[Row]) -> dict[int, Verdict]:
    """``DELETE`` each connection; the verdict per session primary key."""
    return call_connections("DELETE", rows)


def probe_connections(rows: Iterable[Row]) -> dict[int, Verdict]:
    """``GET`` each connection; :attr:`Verdict.GONE` for the ones API Gateway no longer
    holds."""
    return call_connections("GET", rows)


def call_connections(method: str, rows: Iterable[Row]) -> dict[int, Verdict]:
    """``method`` on ``@connections/{id}`` of each ``(pk, connection_id, gateway_id)``.

    Rows without a gateway are left out of the answer. The calls are bounded by
    ``send_concurrency`` and paced at ``send_rate_per_second``.
    """
    requests: list[_Request] = [(pk, url, host) for pk, _, url, host in Endpoints().address(rows)]
    if not requests:
        return {}
    signer = new_signer(requests[0][1])
    settings = SendSettings.from_conf()
    future = asyncio.run_coroutine_threadsafe(
        _call_all(method, requests, signer, settings), get_sender().loop
    )
    return future.result()


async def _call_all(
    method: str, requests: Sequence[_Request], signer: ManagementApiSigner, settings: SendSettings
) -> dict[int, Verdict]:
    loop = asyncio.get_running_loop()
    pacer = Pacer(loop, settings.rate)
    slots = asyncio.Semaphore(settings.concurrency)
    timeout = aiohttp.ClientTimeout(sock_connect=settings.timeout, sock_read=settings.timeout)

    async def one(pk: int, url: str, host: str) -> tuple[int, Verdict]:
        attempt = 0
        while True:
            attempt += 1
            async with slots:
                await pacer.permit()
                status, failure = await _request(session, method, url, host, signer, timeout)
            verdict = judge(status, failure, attempt, settings.max_attempts)
            if verdict is not Verdict.RETRY:
                if verdict is Verdict.FAILED:
                    logger.warning(
                        "%s @connections failed (status %s, %s)", method, status, failure
                    )
                return pk, verdict
            await asyncio.sleep(backoff_delay(attempt))

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        return dict(await asyncio.gather(*(one(*request) for request in requests)))


async def _request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    host: str,
    signer: ManagementApiSigner,
    timeout: aiohttp.ClientTimeout,
) -> tuple[int | None, Failure | None]:
    signed = AWSRequest(method=method, url=url, data=b"", headers={"Host": host})
    signer.add_auth(signed)
    try:
        async with session.request(
            method, URL(url, encoded=True), headers=dict(signed.headers.items()), timeout=timeout
        ) as response:
            await response.read()
            return response.status, None
    except asyncio.TimeoutError:
        return None, Failure.TIMEOUT
    except aiohttp.ClientConnectorError:
        return None, Failure.CONNECT
    except aiohttp.ClientError:
        return None, Failure.RESET

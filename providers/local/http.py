"""An HTTP or HTTPS listener of a local L7 load balancer: an HTTP/1.1 reverse proxy.

Built on aiohttp (already a dependency of the `kubernetes` client): its low-level
server parses requests (keep-alive, chunked bodies, limits) on the provider's event
loop, and its client forwards them to a node at the backend's node port. Per request:

1. the source must be in the load balancer's allow-list, else 403;
2. on HTTP with `https_redirect`, a 308 to the same URL on the HTTPS listener;
3. route by Host and path (`routing.route`); no match and no default backend: 404;
4. forward to the backend's healthy nodes round robin (all of them when none is
   healthy: fail open, as the L4 path does); a refused connect tries the next node,
   none left: 502; a timeout: 504. Bodies stream both ways, unmodified (no
   decompression); hop-by-hop headers are dropped, `X-Forwarded-For/-Proto/-Host` added.

HTTPS terminates TLS with the load balancer's `SniStore`; the backend leg is plain HTTP
to the node port, as with a cloud's L7 load balancer in front of node ports.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from cloud_lb.model import L7Backend, Listener, Protocol
from providers.local.routing import request_host, route

if TYPE_CHECKING:
    from providers.local.balancer import Balancer

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade", "proxy-connection",
})
_READ_TIMEOUT = 60.0


def _forward_headers(request: web.BaseRequest, scheme: str) -> CIMultiDict[str]:
    listed = {h.strip().lower() for h in request.headers.get("Connection", "").split(",")}
    headers = CIMultiDict(
        (k, v) for k, v in request.headers.items()
        if k.lower() not in HOP_BY_HOP and k.lower() not in listed
    )
    peer = request.remote or ""
    previous = request.headers.get("X-Forwarded-For")
    headers["X-Forwarded-For"] = f"{previous}, {peer}" if previous else peer
    headers["X-Forwarded-Proto"] = scheme
    headers["X-Forwarded-Host"] = request.headers.get("Host", "")
    return headers


def _response_headers(upstream: aiohttp.ClientResponse) -> CIMultiDict[str]:
    listed = {h.strip().lower() for h in upstream.headers.get("Connection", "").split(",")}
    return CIMultiDict(
        (k, v) for k, v in upstream.headers.items()
        if k.lower() not in HOP_BY_HOP and k.lower() not in listed
    )


def _text(status: int, body: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=body + "\n", headers=headers)


class HttpListener:
    def __init__(self, balancer: Balancer, listener: Listener, *, connect_timeout: float) -> None:
        self.balancer = balancer
        self.listener = listener
        self._connect_timeout = connect_timeout
        self._counters: dict[L7Backend, Iterator[int]] = {}
        self._server: web.Server | None = None
        self._socket: asyncio.AbstractServer | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def tls(self) -> bool:
        return self.listener.protocol is Protocol.HTTPS

    async def start(self) -> None:
        self._server = web.Server(self._handle, access_log=None, auto_decompress=False)
        self._session = aiohttp.ClientSession(
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout,
                                          sock_read=_READ_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=0, enable_cleanup_closed=True),
        )
        context = self.balancer.tls.base if self.tls else None
        try:
            self._socket = await asyncio.get_running_loop().create_server(
                self._server, host=self.balancer.address, port=self.listener.port,
                ssl=context, reuse_address=True, backlog=256)
        except BaseException:
            await self._session.close()
            raise

    async def stop(self) -> None:
        """Stop accepting and drop every connection of this listener."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._server is not None:
            self._server.pre_shutdown()
            await self._server.shutdown(1.0)
            self._server = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- the request path

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if not self.balancer.allows(request.remote or ""):
            return _text(403, "forbidden by the load balancer's source ranges",
                         Connection="close")
        table = self.balancer.routes
        host = request_host(request.headers.get("Host"))
        if not self.tls and table.https_redirect and (port := self.balancer.https_port()):
            authority = host if port == 443 else f"{host}:{port}"
            return _text(308, "redirecting to HTTPS",
                         Location=f"https://{authority}{request.raw_path}")
        backend = route(table, host, request.path)
        if backend is None:
            return _text(404, "default backend - 404")
        return await self._forward(request, backend)

    async def _forward(self, request: web.BaseRequest, backend: L7Backend) -> web.StreamResponse:
        assert self._session is not None
        counter = self._counters.setdefault(backend, itertools.count())
        nodes = self.balancer.l7_round_robin(backend, counter)
        headers = _forward_headers(request, "https" if self.tls else "http")
        body = request.content if request.body_exists else None
        for node in nodes:
            url = URL(f"http://{node.address}:{backend.node_port}{request.raw_path}", encoded=True)
            try:
                upstream = await self._session.request(
                    request.method, url, headers=headers, data=body, allow_redirects=False,
                    skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding",
                                       "Content-Type"))
            except aiohttp.ClientConnectorError as exc:
                log.info("event=backend_connect_failed lb=%s listener=%s backend=%s:%d error=%r",
                         self.balancer.provider_id, self.listener.protocol.value, node.address,
                         backend.node_port, exc)
                continue
            except TimeoutError:
                return _text(504, "the backend did not answer in time")
            except aiohttp.ClientError as exc:
                log.info("event=backend_failed lb=%s backend=%s:%d error=%r",
                         self.balancer.provider_id, node.address, backend.node_port, exc)
                return _text(502, "the backend failed")
            return await self._relay(request, upstream)
        log.warning("event=no_backend lb=%s service=%s nodes=%d", self.balancer.provider_id,
                    backend.service, len(nodes))
        return _text(502, f"no node answers for {backend.service}:{backend.port}")

    async def _relay(self, request: web.BaseRequest,
                     upstream: aiohttp.ClientResponse) -> web.StreamResponse:
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason,
                                      headers=_response_headers(upstream))
        try:
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            # mid-stream: the status line is gone already, only dropping the
            # connection tells the client the response is incomplete
            log.info("event=relay_failed lb=%s error=%r", self.balancer.provider_id, exc)
            if request.transport is not None:
                request.transport.abort()
        finally:
            upstream.release()
        return response

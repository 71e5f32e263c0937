"""One listening socket per API worker process (``WORKERS>1``), balanced by the kernel.

Sanic binds one socket in its main process and every worker process inherits it. The workers then
share one accept queue, and asyncio accepts every waiting connection at once (up to the backlog) in
whichever worker wakes first. Measured here (the ``bench_wechat`` closed loop, 2 workers, each
worker's CPU read from /proc): when 32 keep-alive connections opened together, one worker took all
32 in one of twelve rounds while the other stayed idle, and throughput halved (721 against about
1,300 messages/s). WeChat's servers keep their connections open, so such an imbalance lasts as long
as they do.

Linux's ``SO_REUSEPORT`` fan-out is the remedy: each worker binds its own socket on the same address,
and the kernel spreads new connections over the workers by a hash of the connection's addresses.
Sanic has no setting for it, but it accepts a ready socket (``prepare(sock=...)``), never listens on
it in the main process, and hands it to each worker process by pickling. ``ReusePortListener`` is that
socket: in the main process it holds the address (bound, so a port in use fails the start at once,
and not listening, so the kernel never queues a connection on it); pickled, it tells the worker to
bind a listening socket of its own. Sanic unpickles it twice per worker (the server arguments and
the server info), so a worker binds once and reuses that socket; a worker Sanic restarts binds anew.
"""

from __future__ import annotations

import socket
from typing import Any

# The worker's own listening socket per address: Sanic's two unpickled copies must be one socket, or
# the kernel would also queue connections on the one nobody accepts from.
_BOUND_HERE: dict[tuple[str, int], socket.socket] = {}


def _reuse_port_socket(family: int, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class ReusePortListener(socket.socket):
    """The main process's placeholder; see the module's docstring."""

    backlog: int = 100

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        host, port = self.getsockname()[:2]
        return (worker_listener, (int(self.family), str(host), int(port), self.backlog))


def _refuse_a_taken_port(family: int, address: tuple[str, int]) -> None:
    """An older server still on the port (a deploy that did not stop it) would share its connections
    with this one without a word under SO_REUSEPORT; a plain bind fails on it, as Sanic's own would."""
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
    finally:
        probe.close()


def reuse_port_listener(host: str, port: int, *, backlog: int = 100) -> ReusePortListener:
    """For the main process: the address held for the workers (port 0 picks a free port)."""
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    family, address = info[0], (str(info[4][0]), int(info[4][1]))
    if port:
        _refuse_a_taken_port(family, address)
    placeholder = ReusePortListener(family, socket.SOCK_STREAM)
    placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    placeholder.bind(address)
    placeholder.backlog = backlog
    return placeholder


def worker_listener(family: int, host: str, port: int, backlog: int) -> socket.socket:
    """In a worker process: its own listening socket on the shared address, bound once."""
    sock = _BOUND_HERE.get((host, port))
    if sock is None or sock.fileno() == -1:
        sock = _reuse_port_socket(family, host, port)
        sock.listen(backlog)
        _BOUND_HERE[(host, port)] = sock
    return sock

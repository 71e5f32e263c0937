"""The per-worker listening socket (config/listener.py): what Sanic pickles to each worker process."""

from __future__ import annotations

import pickle
import socket

import pytest

from config import listener


def test_each_worker_binds_its_own_listening_socket_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listener, "_BOUND_HERE", {})
    placeholder = listener.reuse_port_listener("127.0.0.1", 0, backlog=64)
    port = placeholder.getsockname()[1]
    try:
        # The main process never listens: a connection can only reach a worker's socket.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        shipped = pickle.dumps(placeholder)
        first, again = pickle.loads(shipped), pickle.loads(shipped)
        assert first is again  # Sanic unpickles it twice per worker: one socket, never two queues
        assert first.getsockname()[1] == port and first is not placeholder
        monkeypatch.setattr(listener, "_BOUND_HERE", {})  # another worker process
        other = pickle.loads(shipped)
        assert other is not first and other.getsockname()[1] == port
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # accepted by one of the two workers' queues
        first.close()
        other.close()
    finally:
        placeholder.close()


def test_a_port_held_by_another_server_is_refused() -> None:
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # even one that allows sharing
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        with pytest.raises(OSError):
            listener.reuse_port_listener("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()

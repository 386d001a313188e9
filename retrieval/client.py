"""Open a Chroma client: embedded (a directory) or a server (a URL), with clear errors.

The caller says which; configuration (flags, environment, config file) is resolved once, by the
CLI's ``Settings``, never here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from flowsleuth.retrieval.errors import IndexNotFoundError, IndexUnavailableError

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 120.0  # a large upsert on a busy server; still bounded


def _settings() -> Any:
    from chromadb.config import Settings

    # A fresh object each time: HttpClient writes host and port into the one it is given.
    return Settings(anonymized_telemetry=False, allow_reset=False)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def is_rust_panic(err: BaseException) -> bool:
    """Chroma's Rust core panics as ``pyo3_runtime.PanicException``: a BaseException, so an
    ``except Exception`` misses it. It is an index failure like any other."""
    return type(err).__name__ == "PanicException"


@contextmanager
def chroma_errors(where: str) -> Iterator[None]:
    """Turn Chroma, HTTP and storage failures into :class:`IndexUnavailableError`."""
    import sqlite3

    import httpx
    from chromadb.errors import ChromaError

    try:
        yield
    except (ChromaError, httpx.HTTPError, sqlite3.Error, OSError) as err:
        raise IndexUnavailableError(f"{where}: {_first_line(err)}") from None
    except BaseException as err:
        if not is_rust_panic(err):
            raise
        raise IndexUnavailableError(f"{where}: the index is corrupt ({_first_line(err)})") from None


def persistent_client(index_dir: Path, *, create: bool) -> Any:
    """An embedded client on ``index_dir``. ``create``: make the directory (to write into it);
    otherwise a missing index is an :class:`IndexNotFoundError`."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexUnavailableError(f"index directory {index_dir} is a file, not a directory")
    if not index_dir.exists():
        if not create:
            raise IndexNotFoundError(
                f"no index at {index_dir}; build one with `flowsleuth index build RUNS...`"
            )
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise IndexUnavailableError(
                f"cannot create index directory {index_dir} ({err.strerror or err})"
            ) from None
    elif not create and not (index_dir / "chroma.sqlite3").exists():
        raise IndexNotFoundError(
            f"{index_dir} holds no index; build one with `flowsleuth index build RUNS...`"
        )
    if create and not os.access(index_dir, os.W_OK | os.X_OK):
        raise IndexUnavailableError(f"index directory {index_dir} is not writable")
    import chromadb

    hint = "remove it and rebuild with `flowsleuth index build`"
    try:
        client = chromadb.PersistentClient(path=str(index_dir), settings=_settings())
        client.list_collections()  # forces a read: a corrupt database fails here, not later
    except BaseException as err:  # bare Exception subclasses, or a panic, from its Rust core
        if not isinstance(err, Exception) and not is_rust_panic(err):
            raise
        raise IndexUnavailableError(
            f"index at {index_dir} is corrupt or unreadable ({_first_line(err)}); {hint}"
        ) from None
    return client


def _parse_url(url: str) -> tuple[str, int, bool, str]:
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise IndexUnavailableError(f"not a Chroma server URL: {url!r} (expected http://HOST:PORT)")
    ssl = parsed.scheme == "https"
    try:
        port = parsed.port or (443 if ssl else 8000)
    except ValueError:
        raise IndexUnavailableError(f"bad port in Chroma server URL {url!r}") from None
    base = f"{parsed.scheme}://{parsed.hostname}:{port}"
    return parsed.hostname, port, ssl, base


def http_client(url: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """A client of the Chroma server at ``url``; unreachable -> error within ``timeout_s``."""
    import httpx

    host, port, ssl, base = _parse_url(url)
    # chromadb's own HTTP session has no timeout: probe first, with ours.
    try:
        resp = httpx.get(f"{base}/api/v2/heartbeat", timeout=httpx.Timeout(timeout_s))
        resp.raise_for_status()
    except httpx.HTTPError as err:
        raise IndexUnavailableError(
            f"cannot reach the Chroma server at {base} within {timeout_s:g} s ({_first_line(err)})"
        ) from None
    import chromadb

    try:
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_settings())
    except Exception as err:
        raise IndexUnavailableError(f"Chroma server at {base}: {_first_line(err)}") from None
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):  # bound every later request too
        session.timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=timeout_s)
    return client

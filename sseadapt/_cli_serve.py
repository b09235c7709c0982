"""``sseadapt proxy`` and ``sseadapt demo`` (need the ``proxy`` extra)."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from ._cli_types import number
from ._errors import SSEAdaptError, UpstreamError
from ._events import Dialect
from ._machines import StreamReader
from ._requests import DEFAULT_MODEL

if TYPE_CHECKING:
    from .proxy import ProxyApp

__all__ = ["register"]

_MISSING_EXTRA = "sseadapt {cmd} needs the 'proxy' extra: pip install 'sseadapt[proxy]' ({exc})"

DEMO_PROMPT = "\n\nHuman: Hello! Who are you?\n\nAssistant:"


_FAULTS = ["error", "cut", "drop", "stall", "status-529", "status-500-text", "invalid-json"]  # upstream.Fault


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:  # (str.isdigit takes "²" and "٣")
        raise argparse.ArgumentTypeError(f"--listen takes HOST:PORT with a port from 1 to 65535, not {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _model_name(value: str) -> str:
    if not value:
        raise argparse.ArgumentTypeError("takes a model name, not ''")
    return value


def _model_pair(value: str) -> tuple[str, str]:
    old, sep, new = value.partition("=")
    if not sep or not old or not new:
        raise argparse.ArgumentTypeError(f"takes OLD=NEW, not {value!r}")
    return old, new


def register(sub: Any) -> None:
    proxy = sub.add_parser(
        "proxy",
        help="serve legacy clients in front of an upstream (extra: proxy)",
        description="Serve /v1/complete to 2023-01-01 and 2023-06-01 clients from an upstream that speaks today's API.",
    )
    proxy.add_argument("--upstream", required=True, help="upstream base URL, or 'builtin' for the offline demo upstream")
    proxy.add_argument("--listen", type=_listen, default=("127.0.0.1", 8080), metavar="HOST:PORT", help="address to serve on (default 127.0.0.1:8080)")
    proxy.add_argument("--upstream-api", choices=["messages", "complete"], default="messages", help="API /v1/complete requests use upstream (default messages)")
    proxy.add_argument("--default-model", type=_model_name, default=None, help="model for legacy aliases such as claude-v1 or claude-2 (D15; default: %s)" % DEFAULT_MODEL)
    proxy.add_argument("--model-map", action="append", type=_model_pair, default=[], metavar="OLD=NEW", help="rename a requested model (repeatable)")
    proxy.add_argument("--workers", type=number(int), default=1, help="worker processes (default 1)")
    proxy.add_argument("--max-body-size", type=number(int), default=10 * 1024 * 1024, help="largest request body in bytes (413 above)")
    proxy.add_argument("--connect-timeout", type=number(float), default=10.0, help="seconds to connect upstream (default 10)")
    proxy.add_argument("--idle-timeout", type=number(float), default=300.0, help="seconds an upstream may stay silent (default 300)")
    proxy.add_argument("--send-timeout", type=number(float), default=60.0, help="seconds a client may leave a send waiting (it stopped reading) before its answer is abandoned (default 60)")
    proxy.add_argument("--max-upstream-connections", type=number(int), default=1000, help="concurrent upstream requests (default 1000); one more waits up to --connect-timeout, then gets 503")
    proxy.add_argument("--legacy-ping", choices=["drop", "keep"], default="drop", help="legacy clients: drop or keep upstream pings (D2)")
    proxy.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    proxy.add_argument("--demo-delay", type=number(float, zero_ok=True), default=0.0, help="builtin upstream: seconds between events")
    proxy.add_argument("--demo-fault", default=None, choices=_FAULTS, help="builtin upstream: inject a fault")
    proxy.set_defaults(func=_cmd_proxy)

    demo = sub.add_parser(
        "demo",
        help="offline end to end demo: a legacy request through the proxy to the built-in upstream",
        description="Starts the built-in upstream and the proxy on loopback ports, sends a legacy (2023-01-01, "
        "or --version's) streaming request through the proxy, prints the stream as it arrives, checks it as "
        "the client's dialect (complete, or ending with its error shape), and exits.",
    )
    demo.add_argument("--delay", type=number(float, zero_ok=True), default=0.05, help="seconds between upstream events (default 0.05)")
    demo.add_argument("--fault", default=None, choices=_FAULTS, help="inject an upstream fault")
    demo.add_argument("--version", dest="client_version", default="2023-01-01", choices=["2023-01-01", "2023-06-01"], help="the client's anthropic-version (default 2023-01-01)")
    demo.add_argument("--upstream-api", choices=["messages", "complete"], default="messages")
    demo.set_defaults(func=_cmd_demo)


def _freeze_startup_heap() -> int:
    """Take every object alive now (modules, classes, the app) out of the
    garbage collector's reach, once startup is done, and return how many.

    The collector's full passes walk every tracked object, and every event
    arriving meanwhile waits: with the ~28,000 objects left from startup the
    longest pass in a proxy relaying 200 streams took 64-76 ms and the proxy
    fell behind; with them frozen, 8-25 ms (README, Performance). For a server
    process only: ``gc.freeze()`` is process-wide, so ``ProxyApp`` itself never
    calls it.
    """
    gc.collect()  # (garbage frozen now would never be freed)
    gc.freeze()
    count = gc.get_freeze_count()
    logging.getLogger("sseadapt.proxy").info("%d objects alive at startup kept out of garbage collection", count)
    return count


def _worker_app() -> ProxyApp:
    """``uvicorn --factory`` entry of each ``--workers`` process: the app, then the freeze."""
    from .proxy import create_app_from_env

    app = create_app_from_env()
    _freeze_startup_heap()
    return app


def _cmd_proxy(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .proxy import ProxyApp, ProxyConfig, _redact_url, configure_logging
        from .serve import ServerThread, _bind_socket
        from .upstream import DemoUpstream
    except ImportError as exc:
        print(_MISSING_EXTRA.format(cmd="proxy", exc=exc), file=sys.stderr)
        return 2
    configure_logging(args.log_level)
    host, port = args.listen
    try:
        # Bound and closed again, so that an address that cannot be served is a
        # usage error before anything starts: uvicorn would log it and exit 3
        # (this CLI's "error event" code), after the "proxy on" line.
        _bind_socket(host, port).close()
    except OSError as exc:
        print(f"sseadapt proxy: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    builtin = None
    upstream = args.upstream
    if upstream == "builtin":
        builtin = ServerThread(DemoUpstream(delay=args.demo_delay, fault=args.demo_fault)).start()
        upstream = builtin.url
        print(f"sseadapt: built-in demo upstream on {upstream}", file=sys.stderr)
    elif not upstream.startswith(("http://", "https://")):
        print(f"sseadapt proxy: --upstream must be an http(s) URL or 'builtin', not {_redact_url(upstream)!r}", file=sys.stderr)
        return 2
    try:
        config = ProxyConfig(
            upstream=upstream,
            upstream_api=args.upstream_api,
            default_model=args.default_model or DEFAULT_MODEL,
            model_map=dict(args.model_map),
            max_body_size=args.max_body_size,
            connect_timeout=args.connect_timeout,
            idle_timeout=args.idle_timeout,
            send_timeout=args.send_timeout,
            legacy_ping=args.legacy_ping,
            max_upstream_connections=args.max_upstream_connections,
        )
    except ValueError as exc:  # what argparse cannot check, e.g. an --upstream URL without a host
        if builtin is not None:
            builtin.stop()
        print(f"sseadapt proxy: {exc}", file=sys.stderr)
        return 2
    print(f"sseadapt proxy on http://{host}:{port} -> {_redact_url(upstream)} ({args.upstream_api}), {args.workers} worker(s)", file=sys.stderr)
    try:
        if args.workers > 1:
            os.environ["SSEADAPT_PROXY_CONFIG"] = config.to_json()
            os.environ["SSEADAPT_PROXY_LOG_LEVEL"] = args.log_level
            uvicorn.run("sseadapt._cli_serve:_worker_app", factory=True, host=host, port=port,
                        workers=args.workers, log_level="warning", lifespan="on")
        else:
            app = ProxyApp(config)
            _freeze_startup_heap()
            uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
    except SystemExit as exc:
        if not exc.code:
            raise
        # uvicorn could not start (exit 3: the address taken since the check
        # above, say) and has logged why; 3 is this CLI's "error event" code.
        print(f"sseadapt proxy: the server could not start on {host}:{port} (uvicorn's message above)", file=sys.stderr)
        return 2
    finally:
        if builtin is not None:
            builtin.stop()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    try:
        import httpx

        from .proxy import ProxyApp, ProxyConfig
        from .serve import ServerThread
        from .upstream import DemoUpstream
    except ImportError as exc:
        print(_MISSING_EXTRA.format(cmd="demo", exc=exc), file=sys.stderr)
        return 2
    out = sys.stdout
    upstream_app = DemoUpstream(delay=args.delay, fault=args.fault)
    with ServerThread(upstream_app) as upstream:
        config = ProxyConfig(upstream=upstream.url, upstream_api=args.upstream_api, default_model=DEFAULT_MODEL, idle_timeout=5.0)
        with ServerThread(ProxyApp(config)) as proxy:
            print(f"# built-in upstream (speaks /v1/messages and 2023-06-01 /v1/complete): {upstream.url}", file=out)
            print(f"# sseadapt proxy: {proxy.url} -> upstream /v1/{args.upstream_api}", file=out)
            print(f"# POST {proxy.url}/v1/complete  anthropic-version: {args.client_version}  stream: true", file=out)
            print("#", file=out, flush=True)
            body = {"prompt": DEMO_PROMPT, "model": "claude-v1", "max_tokens_to_sample": 300,
                    "stop_sequences": ["\n\nHuman:"], "stream": True}
            headers = {"Anthropic-Version": args.client_version, "X-API-Key": "sk-demo-not-a-real-key",
                       "Accept": "application/json", "Anthropic-SDK": "anthropic-python/0.2.10"}
            started = time.monotonic()
            events, status = 0, 0
            # The client's stream, checked as its dialect (complete, or its error shape).
            reader = StreamReader(Dialect.LEGACY if args.client_version == "2023-01-01" else Dialect.COMPLETIONS)
            with httpx.Client(timeout=httpx.Timeout(30.0), trust_env=False) as client:
                with client.stream("POST", proxy.url + "/v1/complete", json=body, headers=headers) as response:
                    status = response.status_code
                    print(f"# HTTP {status} {response.headers.get('content-type')}", file=out, flush=True)
                    for line in response.iter_lines():
                        print(line, file=out, flush=True)
                        reader.receive_data(line.encode() + b"\n")
                        events += line.startswith("data: ")
    elapsed = time.monotonic() - started
    if status != 200:
        print(f"# the proxy answered HTTP {status} in the client's error shape ({elapsed:.2f}s)", file=out)
        return 0 if args.fault else 1
    ended = _how_it_ended(reader)
    print(f"# {events} events in {elapsed:.2f}s; the stream ended with {ended}", file=out)
    if args.fault:
        return 0 if ended == "the error shape" else 1
    return 0 if ended in _COMPLETE_ENDINGS.values() else 1


#: How each dialect's complete stream ends, as the demo reports it.
_COMPLETE_ENDINGS = {Dialect.LEGACY: "data: [DONE]", Dialect.COMPLETIONS: "its final completion event"}


def _how_it_ended(reader: StreamReader) -> str:
    """End ``reader``'s input and say how the stream ended: complete, with the
    error shape, or otherwise (what was wrong)."""
    reader.receive_data(b"")
    try:
        for _ in reader.events():
            pass
    except UpstreamError:
        return "the error shape"
    except SSEAdaptError as exc:
        return f"no terminal (unexpected: {exc})"
    return _COMPLETE_ENDINGS[reader.dialect]

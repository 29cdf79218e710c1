"""``/api/live``: the faces of a live camera over one WebSocket, with stable track ids and names.

The protocol (hello with the API key, binary frames with a 12-byte header, JSON results, close codes) is
described in :mod:`convapps.web.live_protocol`. Each connection gets its own
:class:`~convapps.face.stream.StreamRecognizer`; its frames are decoded and recognised one at a time in a
worker thread, holding the face models like any other face request, at ``time_s`` = seconds since the
session started (server clock). The key is checked again every ``recheck_key_s`` seconds, so a revoked key
ends the session. A session is written to the audit log when it ends (frames, names; never an image).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from fastapi import APIRouter, Depends, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from convapps.errors import ConvappsError, InvalidInputError, ModelNotAvailableError
from convapps.web.auth import GATE_SCOPE_KEY, KeyGateMiddleware, KeyRefusal, token_from_headers
from convapps.web.features.faces import FaceDesk
from convapps.web.keys import ApiKey
from convapps.web.live_protocol import (
    CLOSE_IDLE,
    CLOSE_INTERNAL,
    CLOSE_NORMAL,
    CLOSE_TOO_MANY,
    CLOSE_UNAUTHORIZED,
    CLOSE_UNAVAILABLE,
    PROTOCOL,
    LiveLimits,
    decode_frame,
    error_message,
    frame_seq,
    hello_key,
    is_bye,
    parse_frame,
)
from convapps.web.state import Services

if TYPE_CHECKING:
    from convapps.face.stream import StreamRecognizer

log = logging.getLogger("convapps.web")
router = APIRouter(tags=["faces"])

MISSING_HELLO = 'an API key is required: send {"type": "hello", "key": "cvk_..."} first'
REVOKED = "the API key was revoked"


def live_limits() -> LiveLimits:
    """The bounds of a live session (a dependency, so tests can override it)."""
    return LiveLimits()


def live_services(websocket: WebSocket) -> Services:
    services: Services = websocket.app.state.services
    return services


class LiveSession:
    """One camera session: its recognizer, the clock it runs on and what it saw (for the audit log)."""

    def __init__(self, desk: FaceDesk, services: Services, limits: LiveLimits) -> None:
        from convapps.face.stream import StreamRecognizer  # the engine loads with the models, not at import

        pipeline, gallery = desk.ready()
        self.desk, self.settings, self.limits = desk, services.settings, limits
        self.recognizer: StreamRecognizer = StreamRecognizer(gallery, pipeline=pipeline)
        self.started = time.monotonic()
        self.frames = self.refused = 0
        self.recognized: set[str] = set()

    def handle(self, message: bytes, time_s: float) -> dict[str, Any]:
        """The reply to one binary frame message: a result, or an error when the frame is refused."""
        seq = frame_seq(message)
        try:
            frame = parse_frame(message, self.limits)
            t0 = time.perf_counter()
            rgb = decode_frame(frame, self.limits, self.settings)
            with self.desk.hold_models():
                result = self.recognizer.process(rgb, time_s)
        except ConvappsError as err:
            self.refused += 1
            return error_message(err, seq)
        self.frames += 1
        found = result.to_dict()
        self.recognized.update(f.name for f in result.faces if f.name is not None)
        server_ms = 1000 * (time.perf_counter() - t0)
        reply = {"type": "result", "seq": frame.seq, "client_ms": frame.client_ms, "server_ms": server_ms}
        return _finite({**reply, **found})


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON has no NaN or infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@router.websocket("/api/live")
async def live(
    websocket: WebSocket,
    services: Annotated[Services, Depends(live_services)],
    limits: Annotated[LiveLimits, Depends(live_limits)],
) -> None:
    """Recognise the faces of a live camera: hello with the API key, then frames in, results out."""
    await websocket.accept()
    try:
        authenticated = await _authenticate(websocket, limits)
        if authenticated is None:
            return
        key, token = authenticated
        state = websocket.app.state
        if getattr(state, "live_sessions", 0) >= limits.max_sessions:
            reason = f"the service already runs {limits.max_sessions} live sessions; try again later"
            await _close(websocket, CLOSE_UNAVAILABLE, reason)
            return
        try:
            session = await anyio.to_thread.run_sync(_open_session, services, limits)
        except ConvappsError as err:
            await _close(websocket, CLOSE_UNAVAILABLE, str(err))
            return
        state.live_sessions = getattr(state, "live_sessions", 0) + 1
        try:
            await _serve(websocket, session, services, key, token)
        finally:
            state.live_sessions -= 1
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_audit, services, websocket, key, session)
    except WebSocketDisconnect:
        return  # the client left (possibly mid-frame): its frame was finished, nothing is left running
    except Exception:
        log.exception("live session failed")
        await _close(websocket, CLOSE_INTERNAL, "internal error; the server log has the details")


def _open_session(services: Services, limits: LiveLimits) -> LiveSession:
    desk = services.feature("faces")
    if not isinstance(desk, FaceDesk):  # pragma: no cover - a test override of another type
        raise ModelNotAvailableError("faces feature is misconfigured")
    return LiveSession(desk, services, limits)


async def _authenticate(websocket: WebSocket, limits: LiveLimits) -> tuple[ApiKey, str] | None:
    """The key from the upgrade request's headers, else from the first message (a hello); on refusal
    the socket is closed (4401, 4429) and None returned."""
    gate = websocket.scope.get(GATE_SCOPE_KEY)
    if not isinstance(gate, KeyGateMiddleware):
        await _close(websocket, CLOSE_INTERNAL, "API keys are not checked on this service")
        return None
    token = token_from_headers(dict(websocket.scope.get("headers", [])))
    if token is None:
        with anyio.move_on_after(limits.hello_timeout_s):
            first = await websocket.receive()
            if first["type"] == "websocket.disconnect":
                return None
            token = hello_key(first.get("text") or "")
    checked = await gate.check(websocket.scope, token)
    if isinstance(checked, KeyRefusal):
        code = CLOSE_TOO_MANY if checked.status == 429 else CLOSE_UNAUTHORIZED
        missing = token is None and code == CLOSE_UNAUTHORIZED
        await _close(websocket, code, MISSING_HELLO if missing else checked.message)
        return None
    return checked, token or ""


async def _serve(websocket: WebSocket, session: LiveSession, services: Services, key: ApiKey, token: str) -> None:
    limits = session.limits
    await websocket.send_json(
        {
            "type": "ready",
            "protocol": PROTOCOL,
            "key_name": key.name,
            "max_frame_bytes": limits.max_frame_bytes,
            "max_side": limits.max_side,
        }
    )
    checked_at = time.monotonic()
    while True:
        message: MutableMapping[str, Any] | None = None
        with anyio.move_on_after(limits.idle_timeout_s):
            message = await websocket.receive()
        if message is None:
            await _close(websocket, CLOSE_IDLE, f"nothing received for {limits.idle_timeout_s:.0f} s")
            return
        if message["type"] == "websocket.disconnect":
            return
        received = time.monotonic()
        if received - checked_at > limits.recheck_key_s:
            if await anyio.to_thread.run_sync(services.keys.verify, token) is None:
                await _close(websocket, CLOSE_UNAUTHORIZED, REVOKED)
                return
            checked_at = received
        data, text = message.get("bytes"), message.get("text")
        if data is not None:
            reply = await anyio.to_thread.run_sync(session.handle, data, received - session.started)
            await websocket.send_json(reply)
        elif text is not None and is_bye(text):
            await _close(websocket, CLOSE_NORMAL, "bye")
            return
        elif text is not None and hello_key(text) is None:
            unknown = InvalidInputError('unknown message; send binary frames, or {"type": "bye"} to end the session')
            await websocket.send_json(error_message(unknown, None))


def _audit(services: Services, websocket: WebSocket, key: ApiKey, session: LiveSession) -> None:
    client = websocket.client.host if websocket.client else None
    details: dict[str, Any] = {
        "source": "live camera",
        "frames": session.frames,
        "refused_frames": session.refused,
        "seconds": round(time.monotonic() - session.started, 1),
        "recognized": sorted(session.recognized),
    }
    services.audit.record("identify", outcome="ok", key_id=key.id, key_name=key.name, client=client, details=details)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    """Close with ``code`` and ``reason`` (cut to the 123 bytes a close frame holds), unless already closed."""
    if websocket.application_state == WebSocketState.DISCONNECTED:
        return
    cut = reason.encode("utf-8")[:123].decode("utf-8", "ignore")
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # the client is gone already
        await websocket.close(code=code, reason=cut)

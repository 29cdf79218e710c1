"""``/api/live`` through TestClient's WebSocket: the key check (hello message or headers, 4401, backoff,
audit), frames in and results out, refused frames that leave the session open, the session's limits,
and names for an enrolled LFW person and "not recognized" for a stranger, decided over a few frames."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from convapps.web.app import create_app
from convapps.web.keys import KeyStore
from convapps.web.live_protocol import LiveLimits
from convapps.web.routers.live import live_limits
from convapps.web.settings import WebSettings

from .fake_camera import frame_message, jpeg, moving_frames

BASE_URL = "http://127.0.0.1"
LIVE_URL = "ws://127.0.0.1/api/live"
PLAIN = jpeg(np.full((360, 640, 3), 128, dtype=np.uint8))
"""A frame without a face."""


@pytest.fixture(scope="module")
def live_settings(tmp_path_factory: pytest.TempPathFactory) -> WebSettings:
    state = tmp_path_factory.mktemp("live-state")
    return WebSettings(state_dir=state, gallery=f"sqlite:///{state / 'gallery.db'}")


@pytest.fixture(scope="module")
def key(live_settings: WebSettings) -> str:
    return KeyStore(live_settings.keys_path).create("live-tests")[1]


@pytest.fixture(scope="module")
def desk(live_settings: WebSettings) -> Iterator[TestClient]:
    with TestClient(create_app(live_settings), base_url=BASE_URL, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def limits(desk: TestClient) -> Iterator[Callable[[LiveLimits], None]]:
    """Run the next sessions under other limits (restored after the test)."""

    def use(chosen: LiveLimits) -> None:
        desk.app.dependency_overrides[live_limits] = lambda: chosen  # type: ignore[attr-defined]

    yield use
    desk.app.dependency_overrides.pop(live_limits, None)  # type: ignore[attr-defined]


def hello(ws: Any, key: str) -> dict[str, Any]:
    ws.send_text(json.dumps({"type": "hello", "key": key}))
    ready = ws.receive_json()
    assert ready["type"] == "ready", ready
    return dict(ready)


def closed(ws: Any) -> WebSocketDisconnect:
    with pytest.raises(WebSocketDisconnect) as info:
        ws.receive_json()
    return info.value


# ---- authentication --------------------------------------------------------------------------------
def test_first_message_without_a_key_closes_4401(desk: TestClient) -> None:
    with desk.websocket_connect(LIVE_URL) as ws:
        ws.send_bytes(frame_message(1, PLAIN))
        refused = closed(ws)
    assert refused.code == 4401 and "hello" in refused.reason


def test_hello_without_key_closes_4401(desk: TestClient) -> None:
    with desk.websocket_connect(LIVE_URL) as ws:
        ws.send_text(json.dumps({"type": "hello"}))
        assert closed(ws).code == 4401


def test_wrong_key_closes_4401_and_is_audited(desk: TestClient, live_settings: WebSettings) -> None:
    wrong = "cvk_0123456789ab_not-the-secret"
    with desk.websocket_connect(LIVE_URL) as ws:
        ws.send_text(json.dumps({"type": "hello", "key": wrong}))
        refused = closed(ws)
    assert (refused.code, refused.reason) == (4401, "unknown or revoked API key")
    last = desk.app.state.services.audit.tail(1)[0]  # type: ignore[attr-defined]
    assert (last["action"], last["outcome"], last["key_id"]) == ("authenticate", "refused", "0123456789ab")


def test_key_in_headers_needs_no_hello(desk: TestClient, key: str) -> None:
    with desk.websocket_connect(LIVE_URL, headers={"Authorization": f"Bearer {key}"}) as ws:
        ready = ws.receive_json()
    assert ready == {
        "type": "ready",
        "protocol": 1,
        "key_name": "live-tests",
        "max_frame_bytes": 2 * 1024 * 1024,
        "max_side": 1920,
    }


def test_many_wrong_keys_are_backed_off_with_4429(
    make_client: Callable[[WebSettings], TestClient], tmp_path: Path
) -> None:
    settings = WebSettings(state_dir=tmp_path / "state", auth_failures=2, auth_backoff_s=60)
    good = KeyStore(settings.keys_path).create("t")[1]
    client = make_client(settings)
    codes = []
    for token in ("cvk_aaaaaaaaaaaa_x", "cvk_bbbbbbbbbbbb_y", good):
        with client.websocket_connect(LIVE_URL) as ws:
            ws.send_text(json.dumps({"type": "hello", "key": token}))
            codes.append(closed(ws).code)
    assert codes == [4401, 4401, 4429]  # even the right key waits once the address is blocked
    assert client.get("/api/people", headers={"X-API-Key": good}).status_code == 429  # as for HTTP


def test_revoked_key_ends_the_session(
    desk: TestClient, live_settings: WebSettings, limits: Callable[[LiveLimits], None]
) -> None:
    record, token = KeyStore(live_settings.keys_path).create("soon-revoked")
    limits(LiveLimits(recheck_key_s=0.0))
    with desk.websocket_connect(LIVE_URL) as ws:
        hello(ws, token)
        KeyStore(live_settings.keys_path).revoke(record.id)
        ws.send_bytes(frame_message(1, PLAIN))
        refused = closed(ws)
    assert (refused.code, refused.reason) == (4401, "the API key was revoked")


# ---- frames ----------------------------------------------------------------------------------------
def test_frame_without_face_gives_an_empty_result_echoing_seq_and_time(desk: TestClient, key: str) -> None:
    with desk.websocket_connect(LIVE_URL) as ws:
        hello(ws, key)
        ws.send_bytes(frame_message(7, PLAIN, client_ms=1234.5))
        result = ws.receive_json()
    assert result["type"] == "result" and result["seq"] == 7 and result["client_ms"] == 1234.5
    assert (result["frame"], result["width"], result["height"], result["faces"]) == (0, 640, 360, [])
    assert result["detected"] is True and 0 <= result["time_s"] < 30 and result["server_ms"] > 0


def test_refused_frames_get_errors_and_the_session_goes_on(desk: TestClient, key: str) -> None:
    too_wide = jpeg(np.zeros((100, 2000, 3), dtype=np.uint8))
    too_many_pixels = jpeg(np.zeros((2000, 1950, 3), dtype=np.uint8))
    with desk.websocket_connect(LIVE_URL) as ws:
        hello(ws, key)
        ws.send_bytes(frame_message(1, b"\xff\xd8 certainly not a jpeg" * 10))
        garbage = ws.receive_json()
        ws.send_bytes(b"short")
        short = ws.receive_json()
        ws.send_bytes(frame_message(3, b"\0" * (2 * 1024 * 1024 + 1)))
        oversize = ws.receive_json()
        ws.send_bytes(frame_message(4, too_wide))
        wide = ws.receive_json()
        ws.send_bytes(frame_message(5, too_many_pixels))
        pixels = ws.receive_json()
        ws.send_text("what is this?")
        unknown = ws.receive_json()
        ws.send_bytes(frame_message(6, PLAIN))
        after = ws.receive_json()
    assert (garbage["type"], garbage["seq"], garbage["error"]["type"]) == ("error", 1, "NotAnImageError")
    assert garbage["error"]["status"] == 415
    assert (short["seq"], short["error"]["type"], short["error"]["status"]) == (None, "InvalidInputError", 422)
    assert (oversize["seq"], oversize["error"]["type"], oversize["error"]["status"]) == (3, "UploadTooLargeError", 413)
    assert (wide["seq"], wide["error"]["type"]) == (4, "ImageTooLargeError")
    assert "2000x100" in wide["error"]["message"] and "1920 px" in wide["error"]["message"]
    assert (pixels["seq"], pixels["error"]["type"]) == (5, "ImageTooLargeError")
    assert unknown["type"] == "error" and "unknown message" in unknown["error"]["message"]
    assert (after["type"], after["seq"], after["frame"]) == ("result", 6, 0)  # refused frames never ran


def test_bye_closes_normally_and_the_session_is_audited(desk: TestClient, key: str) -> None:
    with desk.websocket_connect(LIVE_URL) as ws:
        hello(ws, key)
        for seq in range(2):
            ws.send_bytes(frame_message(seq, PLAIN))
            assert ws.receive_json()["type"] == "result"
        ws.send_text(json.dumps({"type": "bye"}))
        assert closed(ws).code == 1000
    last = desk.app.state.services.audit.tail(1)[0]  # type: ignore[attr-defined]
    assert (last["action"], last["outcome"], last["key_name"]) == ("identify", "ok", "live-tests")
    assert last["details"]["source"] == "live camera" and last["details"]["frames"] == 2
    assert desk.app.state.live_sessions == 0  # type: ignore[attr-defined]


def test_client_leaving_mid_frame_ends_the_session_cleanly(desk: TestClient, key: str) -> None:
    with desk.websocket_connect(LIVE_URL) as ws:
        hello(ws, key)
        ws.send_bytes(frame_message(1, PLAIN))
    # the frame was finished, its reply dropped; the session is over and audited, the service still answers
    assert desk.app.state.live_sessions == 0  # type: ignore[attr-defined]
    last = desk.app.state.services.audit.tail(1)[0]  # type: ignore[attr-defined]
    assert last["action"] == "identify" and last["details"]["frames"] in (0, 1)
    with desk.websocket_connect(LIVE_URL) as ws:
        hello(ws, key)


def test_idle_session_is_closed_4408(desk: TestClient, key: str, limits: Callable[[LiveLimits], None]) -> None:
    limits(LiveLimits(idle_timeout_s=0.3))
    with desk.websocket_connect(LIVE_URL) as ws:
        hello(ws, key)
        assert closed(ws).code == 4408


def test_sessions_beyond_the_limit_are_closed_4503(
    desk: TestClient, key: str, limits: Callable[[LiveLimits], None]
) -> None:
    limits(LiveLimits(max_sessions=1))
    with desk.websocket_connect(LIVE_URL) as first:
        hello(first, key)
        with desk.websocket_connect(LIVE_URL) as second:
            second.send_text(json.dumps({"type": "hello", "key": key}))
            refused = closed(second)
        first.send_bytes(frame_message(1, PLAIN))
        assert first.receive_json()["type"] == "result"  # the first session is unaffected
    assert refused.code == 4503 and "1 live sessions" in refused.reason


# ---- real faces ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lfw(shared_data: Path) -> Path:
    return shared_data / "faces" / "lfw" / "lfw-deepfunneled"


@pytest.fixture(scope="module")
def enrolled(desk: TestClient, key: str, lfw: Path) -> str:
    for name, folder in (("Colin Powell", "Colin_Powell"), ("Tony Blair", "Tony_Blair")):
        photo = (lfw / folder / f"{folder}_0001.jpg").read_bytes()
        response = desk.post("/api/people", headers={"X-API-Key": key}, data={"name": name}, files={"photo": photo})
        assert response.status_code == 201, response.text
    return "Colin Powell"


def stream_until_decided(desk: TestClient, key: str, photo: Path, max_frames: int = 60) -> list[dict[str, Any]]:
    """Send frames of ``photo`` (moving slightly) like a 10 frames/s camera, one in flight, until its
    track is decided; every result, in order."""
    frames = [jpeg(rgb) for rgb in moving_frames(photo, n=10)]
    results: list[dict[str, Any]] = []
    with desk.websocket_connect(LIVE_URL) as ws:
        hello(ws, key)
        started = time.monotonic()
        for seq in range(max_frames):
            time.sleep(max(0.0, started + 0.1 * seq - time.monotonic()))
            ws.send_bytes(frame_message(seq, frames[seq % len(frames)], client_ms=float(seq)))
            result = ws.receive_json()
            assert result["type"] == "result" and result["seq"] == seq, result
            results.append(result)
            if result["faces"] and result["faces"][0]["decided"]:
                break
    return results


@pytest.mark.shared_data
def test_enrolled_person_gets_their_name_within_a_few_frames(
    desk: TestClient, key: str, lfw: Path, enrolled: str
) -> None:
    results = stream_until_decided(desk, key, lfw / "Colin_Powell" / "Colin_Powell_0002.jpg")
    face = results[-1]["faces"][0]
    assert (face["label"], face["name"], face["recognized"], face["decided"]) == (enrolled, enrolled, True, True)
    assert face["samples"] >= 3 and len(results) <= 30  # about 3 s of camera
    assert results[-1]["time_s"] - results[0]["time_s"] <= 6.0
    assert face["score"] is not None and face["distance"] is not None and face["distance"] < 0.6
    tracks = {f["track"] for r in results for f in r["faces"]}
    assert tracks == {face["track"]}  # one track all along
    undecided = [f for r in results[:-1] for f in r["faces"]]
    assert undecided and all(f["label"] == "..." and not f["decided"] for f in undecided)
    left, top, right, bottom = face["box"]
    assert 170 <= left < right <= 470 and 30 <= top < bottom <= 330  # on the pasted 300 px photo
    times = [r["time_s"] for r in results]
    assert times == sorted(times) and times[-1] > times[0]  # the server's clock since the session began


@pytest.mark.shared_data
def test_stranger_is_not_recognized(desk: TestClient, key: str, lfw: Path, enrolled: str) -> None:
    results = stream_until_decided(desk, key, lfw / "Laura_Bush" / "Laura_Bush_0001.jpg")
    face = results[-1]["faces"][0]
    assert (face["label"], face["name"], face["recognized"], face["decided"]) == ("not recognized", None, False, True)


def test_foreign_host_is_refused_before_the_handshake(desk: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info, desk.websocket_connect("ws://evil.example/api/live"):
        pass
    assert info.value.code == 1008

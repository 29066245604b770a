"""A python-socketio server that speaks the existing Frinny backend contract
(DESIGN.md, "The existing Frinny backend contract"), for the interop tests:

- the client connects with the query ``userId=<id>``; the server joins a room
  named by the user id and emits ``connection_established``;
- ``query``, ``character_creation_start``, ``level_up``, ``combat_turn``,
  ``combat_start`` and ``feedback`` are answered to the user's room (not as
  acks) with ``<event>_response`` carrying the request_id, between
  ``typing_status`` true and false;
- a query whose content is ``fail`` gets ``error`` {error, request_id,
  timestamp}; content ``fail-anonymous`` gets an ``error`` without request_id;
- content ``level me`` also sends ``character_update``;
- ``ask`` (a test hook) has the server ask the client with ``sio.call``.

Listens on 127.0.0.1 only and exits by itself after --lifetime seconds.
"""

import argparse
import asyncio
import time

import socketio
from aiohttp import web

RESPONSE_EVENT = {
    "query": "query_response",
    "character_creation_start": "character_creation_response",
    "level_up": "level_up_response",
    "combat_turn": "combat_turn_response",
    "combat_start": "combat_start_response",
    "feedback": "feedback_response",
}

sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
app = web.Application()
sio.attach(app)
users = {}


def now_ms():
    return int(time.time() * 1000)


@sio.event
async def connect(sid, environ, auth=None):
    query = environ.get("QUERY_STRING", "")
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    user_id = params.get("userId")
    if not user_id:
        raise socketio.exceptions.ConnectionRefusedError("userId is required")
    users[sid] = user_id
    await sio.enter_room(sid, user_id)
    await sio.emit(
        "connection_established",
        {
            "status": "connected",
            "endpoints": list(RESPONSE_EVENT),
            "userId": user_id,
            "sid": sid,
            "timestamp": now_ms(),
        },
        room=user_id,
    )


@sio.event
async def disconnect(sid, *args):
    users.pop(sid, None)


def make_handler(event):
    async def handler(sid, data=None):
        user_id = users.get(sid)
        data = data if isinstance(data, dict) else {}
        request_id = data.get("request_id")
        content = data.get("content", "")
        if content == "fail":
            await sio.emit(
                "error",
                {"error": "the model is unavailable", "request_id": request_id, "timestamp": now_ms()},
                room=user_id,
            )
            return
        if content == "fail-anonymous":
            await sio.emit("error", {"message": "backend hiccup", "timestamp": now_ms()}, room=user_id)
            return
        await sio.emit("typing_status", {"isTyping": True}, room=user_id)
        await asyncio.sleep(0.01)
        if content == "level me":
            await sio.emit(
                "character_update",
                {"actorId": "a1", "updates": {"skills": {"athletics": 2}}, "message_id": "m1"},
                room=user_id,
            )
        reply = {
            "request_id": request_id,
            "content": f"[{event}] {content}",
            "userId": user_id,
            "history_length": len(data.get("conversation_history", []) or []),
            "timestamp": now_ms(),
        }
        await sio.emit(RESPONSE_EVENT[event], reply, room=user_id)
        await sio.emit("typing_status", {"isTyping": False}, room=user_id)

    return handler


for _event in RESPONSE_EVENT:
    sio.on(_event, make_handler(_event))


@sio.event
async def ask(sid, data=None):
    """Not part of the Frinny contract: a test hook that has the server ask
    the client a question with ``sio.call`` (an event that wants an ack)
    and report what came back as ``answered`` {answer, error}.

    ``data`` is {event, args, timeoutMs}; several args are sent as several
    arguments, and an answer of several arguments comes back as a list.
    """
    data = data if isinstance(data, dict) else {}
    args = data.get("args", [])
    payload = tuple(args) if len(args) != 1 else args[0]
    timeout = data.get("timeoutMs", 5000) / 1000
    report = {"answer": None, "error": None}
    try:
        answer = await sio.call(data.get("event", "question"), payload, to=sid, timeout=timeout)
        report["answer"] = list(answer) if isinstance(answer, tuple) else answer
    except socketio.exceptions.TimeoutError:
        report["error"] = "timeout"
    await sio.emit("answered", report, to=sid)


async def main(port, lifetime):
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print(f"frinny python backend on 127.0.0.1:{port}", flush=True)
    await asyncio.sleep(lifetime)
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=28472)
    parser.add_argument("--lifetime", type=float, default=900)
    args = parser.parse_args()
    asyncio.run(main(args.port, args.lifetime))

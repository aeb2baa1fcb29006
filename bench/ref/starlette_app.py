"""What the API's original achieves: samples/bench's routes in Starlette, served by uvicorn.

bench/run starts it with Debian's python3-uvicorn, one worker:
    python3 -m uvicorn --app-dir bench/ref starlette_app:app --port PORT
"""
from starlette.applications import Starlette
from starlette.endpoints import WebSocketEndpoint
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute


async def plaintext(request):
    return PlainTextResponse("Hello, World!")


async def json(request):
    return JSONResponse({"message": "Hello, World!"})


class Echo(WebSocketEndpoint):
    encoding = "text"

    async def on_receive(self, websocket, data):
        await websocket.send_text(data)


app = Starlette(routes=[
    Route("/plaintext", plaintext),
    Route("/json", json),
    WebSocketRoute("/ws", Echo),
])

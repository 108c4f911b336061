#!/usr/bin/env python3
# The WebSocket server of the Kinode book's ws-client example, with the address as arguments
# (the book listens on localhost:8765): on a connection it sends "ack client connection",
# prints the client's reply, closes, and shuts down. Port 0 picks a free port; the line
# "Server started at ws://HOST:PORT" reports it. Legacy handler signature (websockets < 14,
# as Debian's python3-websockets provides).

import argparse
import asyncio
import websockets


async def ws_handler(websocket, path, shutdown_event):
    try:
        await websocket.send("ack client connection")

        response = await websocket.recv()
        print(f"Received response from client: {response}")
    finally:
        await websocket.close()
        shutdown_event.set()


async def main(host, port):
    shutdown_event = asyncio.Event()

    async with websockets.serve(lambda ws, path: ws_handler(ws, path, shutdown_event), host, port) as server:
        bound = server.sockets[0].getsockname()[1]
        print(f"Server started at ws://{host}:{bound}", flush=True)

        await shutdown_event.wait()

        print("Shutting down server.", flush=True)


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--host', default='localhost')
    parser.add_argument('--port', type=int, default=8765)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))

"""The baseline for the intake bench: the same HTTP stack answering 200 without storing anything.

Same FastAPI, same uvicorn (one process, access log on, as `fireline serve` runs it), same
payloads; the body is read in full so the transfer costs the same. What the durable
server costs on top (signature check, parsing, one committed insert, the normaliser) is
the ratio of the two throughputs.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI(title="bare intake baseline")


@app.post("/webhooks/github")
async def github(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"status": "ok"})


@app.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok", "pending": 0})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")

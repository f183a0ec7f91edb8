import asyncio
import json

import nats


def merged(base, **changes):
    """A copy of an options dict with some options changed."""
    out = dict(base)
    out.update(changes)
    return out


def api(url, subject, body=None, timeout=5):
    async def run():
        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=1)
        try:
            msg = await nc.request(subject, json.dumps(body).encode() if body is not None else b"", timeout=timeout)
            return json.loads(msg.data) if msg.data else {}
        finally:
            await nc.close()
    return asyncio.run(run())


def stream_info(url, name):
    resp = api(url, "$JS.API.STREAM.INFO.%s" % name)
    return None if "error" in resp else resp


def publish(url, subject, count, prefix=b"m"):
    async def run():
        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=1)
        try:
            js = nc.jetstream()
            for i in range(count):
                await js.publish(subject, prefix + str(i).encode())
        finally:
            await nc.close()
    asyncio.run(run())

"""What one model call costs per layer, against a loopback OpenAI-compatible server.

    python benchmarks/model_overhead.py [--calls 300] [--rounds 5]

The server is the test suite's `ModelServer` (tests/conftest.py) on 127.0.0.1, answering at once.
The same chat request (a system prompt and eight history messages) goes out through each layer in
turn, one call each, `--calls` times per round, all on one event loop (the workbench's background
loop, where `Model` runs its litellm calls):

- httpx: a raw `POST /v1/chat/completions` with `httpx.AsyncClient`;
- openai: `AsyncOpenAI().chat.completions.create`;
- litellm: `litellm.acompletion` with the arguments `Model` passes (no retries, a timeout);
- workbench: `Model("openai/loopback", api_base=...).acomplete`, which wraps litellm with its
  retries, usage, cost and error mapping.

Prints the median ms per call of each layer per round (range over rounds), and the median of the
differences workbench minus litellm between calls made one after the other: what the workbench adds
on top of a plain litellm call.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import ModelServer  # noqa: E402  (the loopback server of the test suite)

from workbench.core.sync import run_sync  # noqa: E402
from workbench.llm.model import Model  # noqa: E402
from workbench.llm.providers import load_litellm  # noqa: E402

MESSAGES = [{"role": "system", "content": "You are an agent acting in a text environment. " * 8}] + [
    {"role": "user" if i % 2 == 0 else "assistant", "content": f"Observation:\nstep {i} of a corridor"}
    for i in range(8)
]
KEY = "sk-loopback-bench"


async def timed(fn, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - t0)
    return out


async def interleaved(fns: dict[str, object], calls: int) -> dict[str, list[float]]:
    """`calls` rounds of one call per layer, in turn, so that a busy machine slows every layer alike."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(calls):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            await fn()
            out[name].append(time.perf_counter() - t0)
    return out


async def layers(url: str) -> dict[str, object]:
    import httpx
    import openai

    litellm = load_litellm()
    client = httpx.AsyncClient()
    sdk = openai.AsyncOpenAI(base_url=url, api_key=KEY, max_retries=0)
    model = Model("openai/loopback", api_base=url, api_key=KEY, max_retries=0)
    body = {"model": "loopback", "messages": MESSAGES}
    headers = {"authorization": f"Bearer {KEY}"}

    async def raw() -> None:
        r = await client.post(f"{url}/chat/completions", json=body, headers=headers)
        r.json()

    async def sdk_call() -> None:
        await sdk.chat.completions.create(model="loopback", messages=MESSAGES)

    async def plain() -> None:
        await litellm.acompletion(
            model="openai/loopback",
            messages=MESSAGES,
            api_base=url,
            api_key=KEY,
            num_retries=0,
            max_retries=0,
            timeout=60.0,
        )

    async def workbench() -> None:
        await model.acomplete(MESSAGES)

    return {"httpx": raw, "openai": sdk_call, "litellm": plain, "workbench": workbench}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    server = ModelServer()
    server.start()
    try:
        fns = run_sync(layers(server.url))
        for fn in fns.values():  # warm up: imports, connection pools, first-call caches
            run_sync(timed(fn, 20))
        medians: dict[str, list[float]] = {name: [] for name in fns}
        added: list[float] = []
        for _ in range(args.rounds):
            times = run_sync(interleaved(fns, args.calls))
            for name, values in times.items():
                medians[name].append(statistics.median(values) * 1e3)
            diffs = [w - p for w, p in zip(times["workbench"], times["litellm"], strict=True)]
            added.append(statistics.median(diffs) * 1e3)
    finally:
        server.stop()
    print(f"{args.rounds} rounds of {args.calls} calls per layer, loopback server, median ms per call")
    print(f"{'layer':<10} {'ms/call':>12}")
    for name, values in medians.items():
        print(f"{name:<10} {min(values):>5.2f}-{max(values):<5.2f}")
    print(
        f"workbench adds {min(added):.2f} to {max(added):.2f} ms over plain litellm "
        "(median of the per-call differences, per round)"
    )


if __name__ == "__main__":
    main()

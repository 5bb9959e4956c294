#!/usr/bin/env python3
"""Classification speed on one core: throughput, per-message latency, load time, memory.

Runs the whole path an incoming message takes: raw bytes -> parse and clean ->
three heads -> reason. The 10,000 messages cycle through the project's own
corpus (emails and chat messages as raw text), so the mix of lengths and MIME
shapes is realistic.

    python bench/speed.py [--messages 10000] [--model-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

from _common import ROOT

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

LOAD_SNIPPET = """
import time, resource, sys
t = time.perf_counter()
from triage.training import load_model
model = load_model({model_dir!r})
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--latency-sample", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--model-dir", default=None)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    # load time and the memory of a fresh process holding only the model
    loads = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", LOAD_SNIPPET.format(model_dir=args.model_dir)],
                             capture_output=True, text=True, check=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.split()
        loads.append((float(out[0]), int(out[1])))
    load_s = statistics.median(x[0] for x in loads)

    from triage.corpus import load_examples
    from triage.message import read_chat, read_email
    from triage.taxonomy import load_taxonomy
    from triage.training import load_model

    model = load_model(args.model_dir)
    examples = load_examples(ROOT / "training_data", load_taxonomy())
    raws = [(e.kind, e.text.encode("utf-8") if e.kind == "email" else e.text) for e in examples]
    stream = [raws[i % len(raws)] for i in range(args.messages)]
    emails = sum(k == "email" for k, _ in stream)

    def parse(item):
        kind, raw = item
        return read_email(raw) if kind == "email" else read_chat(raw)

    model.predict([parse(x) for x in stream[:64]])  # warm caches
    start = time.perf_counter()
    done = 0
    for i in range(0, len(stream), args.batch):
        batch = [parse(x) for x in stream[i:i + args.batch]]
        done += len(model.predict(batch))
    elapsed = time.perf_counter() - start
    latencies = []
    for item in stream[: args.latency_sample]:
        t = time.perf_counter()
        model.predict([parse(item)])
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"messages: {done} ({emails} emails, {done - emails} chat), one core, batches of {args.batch}")
    print(f"throughput: {done / elapsed:,.0f} messages/s (target >= 2,000), parse + classify + reasons")
    print(f"latency per message (one at a time, n={len(latencies)}): p50 {p(0.50):.2f} ms, p99 {p(0.99):.2f} ms")
    print(f"model load: {load_s:.2f} s median of 3 fresh processes (target <= 2 s)")
    print(f"peak RSS: {max(x[1] for x in loads) / 1024:.0f} MB for a process holding the model; "
          f"{peak_rss_mb:.0f} MB for this benchmark (target <= 400 MB)")
    print("reproduce: python bench/speed.py")


if __name__ == "__main__":
    main()

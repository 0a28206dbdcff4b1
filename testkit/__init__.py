"""What the tests and the benchmarks share, outside both (bench/ never imports tests/): free ports, waiting,
child processes and threaded servers on 127.0.0.1, and sample webhook bodies. Not part of the installed package.

- waiting.py: `wait_until` (blocking) and `eventually` (async), both polling a predicate with a deadline.
- processes.py: `Process` (a child with its output in a log file), `free_port`, `python_module`, `http_ok`.
- servers.py: `ThreadedServer`, an ASGI app under uvicorn in a background thread (for fakes).
- alertmanager.py: a real Alertmanager webhook body, made distinct per call.
"""

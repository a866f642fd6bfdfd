"""Benchmark: GB/T 32960 ingest, on PostgreSQL (run through bench/run.py).

    .venv/bin/python bench/run.py --only gb32960 --db postgres [--quick]

One dealer group with DEVICES new-energy cars and a GB/T 32960 terminal each (bench_telematics'
`make_fleet`, the terminals switched to protocol gb32960). ONE server process runs
`m4s gb32960` (what production runs, its default database threads); this process is the
vehicles: one TCP connection per car, each logs in by VIN, sends one warm-up report (so every car
has its state row, as in steady state), then REPORTS real-time reports (0x02: whole vehicle,
position, alarm units), keeping at most WINDOW frames unacknowledged per connection; the frames
are built before the clock runs. msgs/s = reports / (first frame sent → last ack received); every
ack is a success (flag 0x01), sent by the server only after the commit. Server CPU is read from
/proc for the server process.

Baseline, same run: the same reports decoded into the same rows the writer makes
(`writer._rows_pg`), `COPY … FROM STDIN (FORMAT BINARY)` straight into the same partitioned
table, one COPY and commit per car's REPORTS rows. The telemetry table is emptied before each.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import time

import run as harness

DEVICES = 40
REPORTS = 150  # per car
WINDOW = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _frames(w, t0: dt.datetime, first: int, n: int) -> list[list[bytes]]:
    from m4s.telematics import gb32960 as gb

    out = []
    for i, device in enumerate(w.vins):
        frames = []
        for k in range(first, first + n):
            report = gb.Report(
                ts=t0 + dt.timedelta(seconds=k),
                vehicle=gb.VehicleData(
                    speed_kmh=40.0 + k % 30,
                    odometer_km=10_000 + i + k / 100,
                    total_v=355.2,
                    total_a=25.5,
                    soc_pct=80 - k % 50,
                ),
                position=gb.Position(True, 39.9 + i / 1000, 116.4 + k / 100000),
                alarm=gb.AlarmData(level=0),
            )
            frames.append(gb.encode_report(device, report))
        out.append(frames)
    return out


async def _vehicle(port: int, vin: str, frames: list[bytes], window: int) -> int:
    from m4s.telematics import gb32960 as gb

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    splitter = gb.FrameSplitter()
    pending: list[bytes] = []

    async def reply():
        while not pending:
            chunk = await reader.read(65536)
            if not chunk:
                raise ConnectionError("server closed")
            pending.extend(splitter.feed(chunk))
        return gb.decode_frame(pending.pop(0))

    writer.write(gb.encode_login(vin, dt.datetime.now(dt.UTC)))
    if (await reply()).header.response != gb.SUCCESS:
        raise RuntimeError(f"login of {vin} refused")
    acked, sent = 0, 0
    while acked < len(frames):
        while sent < len(frames) and sent - acked < window:
            writer.write(frames[sent])
            sent += 1
        await writer.drain()
        r = await reply()
        if r.header.response != gb.SUCCESS:
            raise RuntimeError(f"report of {vin} not acknowledged: {r.header}")
        acked += 1
    writer.close()
    return acked


def _drive(port: int, w, frames: list[list[bytes]], window: int) -> tuple[int, float]:
    async def main():
        t = time.perf_counter()
        done = await asyncio.gather(
            *(_vehicle(port, vin, f, window) for vin, f in zip(w.vins, frames, strict=True))
        )
        return sum(done), time.perf_counter() - t

    return asyncio.run(main())


def _copy_rows(w, frames: list[list[bytes]], now) -> tuple[int, float]:
    from django.db import connection, transaction

    from m4s.telematics import gb32960 as gb
    from m4s.telematics import writer

    batches = []
    for device, car_frames in zip(w.devices, frames, strict=True):
        ms = [
            gb.to_message(gb.decode_data(gb.decode_frame(f)), device.device_id) for f in car_frames
        ]
        batches.append(writer._rows_pg(device, ms, {}, now, loose=False))
    sql = f"COPY telematics_telemetry ({writer._COLUMNS}) FROM STDIN (FORMAT BINARY)"
    seconds = 0.0
    for rows in batches:
        t = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur, cur.copy(sql) as copy:
            copy.set_types(writer._COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        seconds += time.perf_counter() - t
    return sum(len(b) for b in batches), seconds


def bench_gb32960(scale: int) -> dict:
    from bench_telematics import (
        _load_avg,
        _proc_cpu,
        _telemetry_count,
        _truncate_telemetry,
        make_fleet,
    )
    from django.db import connections
    from django.utils import timezone

    from m4s.telematics.models import Device

    n_devices, reports = max(4, DEVICES // scale), max(20, REPORTS // scale)
    w = make_fleet(n_devices, tag="gbev", slug="gbev")
    Device.objects.unscoped().filter(pk__in=[d.pk for d in w.devices]).update(protocol="gb32960")
    ids = [d.pk for d in w.devices]
    w.vins = list(
        Device.objects.unscoped()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("vehicle__vin", flat=True)
    )
    harness._analyze()
    connections.close_all()
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "m4s", "gb32960", "--host", "127.0.0.1", "--port", str(port)],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the GB/T 32960 server did not start") from None
                time.sleep(0.2)
        t0 = timezone.now() - dt.timedelta(hours=2)
        _drive(port, w, _frames(w, t0, 0, 1), 1)  # warm-up: every car has its state row
        _truncate_telemetry()
        frames = _frames(w, t0, 1, reports)
        cpu0 = _proc_cpu(server.pid)
        acked, seconds = _drive(port, w, frames, WINDOW)
        server_cpu = _proc_cpu(server.pid) - cpu0
    finally:
        server.terminate()
        server.wait(30)
    stored = _telemetry_count()
    total = n_devices * reports
    if acked != total or stored != total:
        raise RuntimeError(f"{acked:,} acked and {stored:,} stored of {total:,} reports")
    rate = total / seconds
    harness.log(
        f"gb32960: {total:,} reports over {n_devices} connections in {seconds:.1f} s = "
        f"{rate:,.0f}/s; server CPU {server_cpu / total * 1e6:.0f} µs/msg; load {_load_avg()}"
    )
    _truncate_telemetry()
    rows, copy_seconds = _copy_rows(w, frames, timezone.now())
    harness.log(f"gb32960 COPY baseline: {rows:,} rows in {copy_seconds:.2f} s")
    data = f"{n_devices} vehicles × {reports} reports"
    return {
        "rows": [
            {
                "benchmark": "GB/T 32960 ingest (TCP, 1 server process, acks after commit)",
                "data": data,
                "m4s": f"{rate:,.0f} msgs/s (server CPU {server_cpu / total * 1e6:.0f} µs/msg)",
                "baseline": "the same rows by binary COPY, one COPY + commit per vehicle",
                "baseline_result": f"{rows / copy_seconds:,.0f} rows/s",
            }
        ],
        "gb32960_msgs_per_s": round(rate),
        "copy_rows_per_s": round(rows / copy_seconds),
        "load": _load_avg(),
    }

"""The simulator speaks GB/T 32960 (`m4s simulate --via gb32960`): simulated new-energy cars log
in with their VIN and send real-time reports, acknowledged by the server after the commit."""

import asyncio
import threading
import time

from m4s.telematics import simulator
from m4s.telematics.gb32960_server import Gb32960Server
from m4s.telematics.models import Device, Telemetry


def test_simulate_over_gb32960_into_the_server(cars, transactional_db, tmp_path):
    server, loop = Gb32960Server("127.0.0.1", 0), asyncio.new_event_loop()

    async def serve():
        await server.start()
        await server.serve_until_stopped()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while server._server is None and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.02)
    try:
        counts = simulator.simulate(
            2,
            3,
            "gb32960",
            url=f"tcp://127.0.0.1:{server.port}",
            speedup=0,
            schedule="busy",
            tokens_path=tmp_path / "t",
            progress=False,
        )
    finally:
        loop.call_soon_threadsafe(server.request_stop)
        thread.join(15)
        loop.close()
    assert counts.errors == 0 and counts.acked == counts.sent > 2, counts.last_error
    devices = Device.objects.unscoped().filter(protocol="gb32960")
    assert devices.count() == 2 and all(d.device_id.endswith("-gb") for d in devices)
    rows = Telemetry.objects.unscoped()
    assert rows.count() == counts.sent
    assert {r.odometer_source for r in rows} == {"can"}
    assert all(r.soc_pct is not None and r.pack_v == 355.0 and r.charge_state for r in rows)

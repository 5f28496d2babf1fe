"""A Binance-compatible exchange simulator for development, tests and benchmarks.

One server serves REST (``/api/v3/...``), WebSocket streams (``/ws/<stream>``, ``/stream?streams=``)
and bulk history files (``/data/spot/...``) from a seeded synthetic market or a recording, injects
faults on request and has a benchmark mode. Start it with ``streamforge sim`` or from code::

    async with Simulator(SimConfig(symbols=("BTCUSDT",))) as sim:
        ...  # sim.rest_url, sim.ws_url, sim.data_url, sim.set_faults(malformed_next=1)

``SimulatorThread`` runs one beside synchronous code, ``SimulatorProcess`` as a subprocess.
"""

from streamforge.simulator.config import SimConfig
from streamforge.simulator.faults import Faults
from streamforge.simulator.runner import SimulatorProcess, SimulatorThread
from streamforge.simulator.server import Simulator
from streamforge.simulator.stats import SimStats

__all__ = ["Faults", "SimConfig", "SimStats", "Simulator", "SimulatorProcess", "SimulatorThread"]

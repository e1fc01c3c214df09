"""A local stand-in for Tencent Cloud Live: API 3.0, the legacy API, the push edge and callbacks.

`SimulatorServer(Simulator(SimConfig.from_settings(settings)), port=8100)` serves it; see
`python manage.py livecloud_simulator` and the `simulator` pytest fixture.
"""

from .core import Faults, SimConfig, Simulator
from .server import SimulatorServer

__all__ = ["Faults", "SimConfig", "Simulator", "SimulatorServer"]

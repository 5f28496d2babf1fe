"""The process supervisor behind ``streamforge up`` and the embedded default stack it runs."""

from dev_env.supervisor.control import DownResult, left_running, running_stack, take_down
from dev_env.supervisor.detach import start_detached
from dev_env.supervisor.errors import (
    ServiceStartError,
    StackRunningError,
    StackStartError,
    SupervisorError,
)
from dev_env.supervisor.health import HealthCheck, HttpHealth, KafkaHealth
from dev_env.supervisor.lock import StackLock
from dev_env.supervisor.paths import StackPaths
from dev_env.supervisor.run import StatusLines, run_stack
from dev_env.supervisor.spec import ProcessSpec, RestartPolicy
from dev_env.supervisor.stack import EXCHANGES, Stack, StackOptions
from dev_env.supervisor.state import (
    Phase,
    ServiceRecord,
    ServiceState,
    SupervisorState,
    read_state,
)
from dev_env.supervisor.supervisor import Supervisor

__all__ = [
    "EXCHANGES",
    "DownResult",
    "HealthCheck",
    "HttpHealth",
    "KafkaHealth",
    "Phase",
    "ProcessSpec",
    "RestartPolicy",
    "ServiceRecord",
    "ServiceStartError",
    "ServiceState",
    "Stack",
    "StackLock",
    "StackOptions",
    "StackPaths",
    "StackRunningError",
    "StackStartError",
    "StatusLines",
    "Supervisor",
    "SupervisorError",
    "SupervisorState",
    "left_running",
    "read_state",
    "run_stack",
    "running_stack",
    "start_detached",
    "take_down",
]

"""queue-manager: validates commands and runs workflows as a fold over ``queue-events``."""

from streamforge.services.queue_manager.manager import WorkflowManager
from streamforge.services.queue_manager.service import QueueManager

__all__ = ["QueueManager", "WorkflowManager"]

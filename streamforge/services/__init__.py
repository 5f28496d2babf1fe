"""Services and the lifecycle they share (see :mod:`streamforge.services.host`)."""

from streamforge.services.base import CommandRejected, Progress, Service, ServiceContext
from streamforge.services.host import ServiceHost

__all__ = ["CommandRejected", "Progress", "Service", "ServiceContext", "ServiceHost"]

"""Services and the lifecycle they share: :mod:`.base` (a service and its context) and
:mod:`.host` (what runs one). Nothing is imported here, so that a process which needs one
service module (such as loader-history's parse workers) does not load them all."""

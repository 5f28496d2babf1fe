"""Find the Java runtime that runs the broker and check that it is new enough."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from dev_env.kafka.errors import JavaError

MIN_JAVA_VERSION = 17
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def find_java(env: Mapping[str, str]) -> Path:
    """``$JAVA_HOME/bin/java``, else ``java`` on ``PATH``; raise :class:`JavaError` unless 17+."""
    java_home = env.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        if not java.is_file():
            raise JavaError(f"JAVA_HOME={java_home} has no bin/java: point it at Java 17+")
    else:
        found = shutil.which("java", path=env.get("PATH"))
        if found is None:
            raise JavaError("Java not found: install a Java 17+ runtime or set JAVA_HOME")
        java = Path(found)
    version = java_version(java)
    if version < MIN_JAVA_VERSION:
        raise JavaError(f"Apache Kafka needs Java {MIN_JAVA_VERSION}+, {java} is Java {version}")
    return java


def java_version(java: Path) -> int:
    """The feature version of the runtime ``java`` (8 for ``1.8.0_x``, 17 for ``17.0.x``)."""
    result = subprocess.run(
        [str(java), "-version"], capture_output=True, text=True, check=False, timeout=60
    )
    match = _VERSION.search(result.stderr)
    if result.returncode != 0 or match is None:
        first = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise JavaError(f"cannot tell the version of {java}: {first}")
    major, minor = int(match[1]), int(match[2] or 0)
    return minor if major == 1 else major

"""Locate the broker's jars: an Apache Kafka distribution (``KAFKA_HOME``) or a Maven download.

The Maven download lands in ``<dist_dir>/libs`` once; a stamp file marks it complete, so an
interrupted download is redone and a finished one is reused. ``dist_dir`` is
``STREAMFORGE_KAFKA_DIST_DIR`` when set (one download shared by many data dirs), else
``<data_dir>/kafka-<version>``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dev_env.kafka.errors import KafkaDistributionError
from dev_env.kafka.java import find_java

KAFKA_VERSION = "4.1.1"
SCALA_VERSION = "2.13"
LOG4J_VERSION = "2.24.3"
DIST_DIR_ENV = "STREAMFORGE_KAFKA_DIST_DIR"

# The log4j2 SLF4J binding routes the broker's logging to the log4j2 config we ship.
_POM = f"""\
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>streamforge.dev</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>{KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{SCALA_VERSION}</artifactId>
      <version>{KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
"""
_STAMP = ".complete"


@dataclass(frozen=True)
class KafkaDistribution:
    """What it takes to run the broker: a Java runtime and the folder of Kafka's jars."""

    java: Path
    libs: Path

    @property
    def classpath(self) -> str:
        """The JVM class path (Java expands the trailing ``*`` to every jar)."""
        return str(self.libs / "*")


def default_dist_dir(data_dir: Path) -> Path:
    """Where the Maven download for a broker in ``data_dir`` goes by default."""
    return data_dir / f"kafka-{KAFKA_VERSION}"


def resolve_distribution(data_dir: Path, env: Mapping[str, str] | None = None) -> KafkaDistribution:
    """Java plus Kafka's jars: ``$KAFKA_HOME/libs`` if set, else the Maven download."""
    env = os.environ if env is None else env
    java = find_java(env)
    kafka_home = env.get("KAFKA_HOME")
    if kafka_home:
        return KafkaDistribution(java, kafka_home_libs(Path(kafka_home)))
    dist_dir = Path(env[DIST_DIR_ENV]) if env.get(DIST_DIR_ENV) else default_dist_dir(data_dir)
    return KafkaDistribution(java, fetch_with_maven(dist_dir, env))


def kafka_home_libs(kafka_home: Path) -> Path:
    """``kafka_home/libs``, checked to hold Kafka's core jar."""
    libs = kafka_home / "libs"
    if not any(libs.glob(f"kafka_{SCALA_VERSION}-*.jar")):
        raise KafkaDistributionError(
            f"KAFKA_HOME={kafka_home} is not an Apache Kafka distribution: "
            f"no libs/kafka_{SCALA_VERSION}-*.jar"
        )
    return libs


def fetch_with_maven(dist_dir: Path, env: Mapping[str, str]) -> Path:
    """Kafka's jars in ``dist_dir/libs``, downloaded with Maven unless a complete copy is there."""
    libs = dist_dir / "libs"
    stamp = dist_dir / _STAMP
    digest = hashlib.sha256(_POM.encode()).hexdigest()
    dist_dir.mkdir(parents=True, exist_ok=True)
    # Concurrent test sessions share one dist dir: only one of them may download.
    with _exclusive(dist_dir / ".lock"):
        if stamp.is_file() and stamp.read_text() == digest:
            return libs
        mvn = shutil.which("mvn", path=env.get("PATH"))
        if mvn is None:
            raise KafkaDistributionError(
                "Maven not found: install Maven or set KAFKA_HOME to an Apache Kafka distribution"
            )
        stamp.unlink(missing_ok=True)
        shutil.rmtree(libs, ignore_errors=True)
        pom = dist_dir / "pom.xml"
        pom.write_text(_POM)
        command = [mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies"]
        result = subprocess.run(
            [*command, f"-DoutputDirectory={libs}"],
            capture_output=True,
            text=True,
            env=dict(env),
            check=False,
        )
        if result.returncode != 0:
            raise KafkaDistributionError(
                f"Maven could not fetch Apache Kafka {KAFKA_VERSION} "
                f"(exit {result.returncode}): {_first_error(result.stdout + result.stderr)}"
            )
        stamp.write_text(digest)
    return libs


def _first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("[ERROR]")]
    return (errors or lines or ["no output"])[0]


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield

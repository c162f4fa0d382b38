"""Apache Kafka 4.x, single node, KRaft mode, from the official Maven Central artifacts.

Maven resolves ``org.apache.kafka:kafka_2.13`` and its runtime dependencies once into the cache (a
second start is offline). The broker runs as ``java -cp libs/* kafka.Kafka server.properties``.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from sceau_dev.infra.process import (
    InfraError,
    Progress,
    pid_alive,
    port_open,
    require_tool,
    run_checked,
    start_detached,
    stop_pid,
    wait_until,
)

KAFKA_VERSION = "4.3.1"
SLF4J_VERSION = "1.7.36"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.sceau.infra</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <!-- Only used to resolve Kafka's runtime class path from Maven Central. -->
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>{slf4j}</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J = """log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka=WARN
log4j.logger.kafka.server.KafkaConfig=WARN
log4j.logger.state.change.logger=WARN
"""


@dataclass(frozen=True)
class KafkaConfig:
    """Where one broker listens and keeps its data."""

    port: int
    controller_port: int
    data_dir: Path
    log_file: Path
    # 512 MB ran out (OutOfMemoryError, 2026-12-05) once a day of test runs had left a few
    # thousand topics' partitions in the development broker; the machines have RAM to spare.
    heap: str = "1g"

    @property
    def bootstrap(self) -> str:
        """Return the bootstrap address clients use."""
        return f"127.0.0.1:{self.port}"


def runtime_dir(cache_dir: Path) -> Path:
    """Return where this Kafka version's class path is cached."""
    return cache_dir / f"kafka-{KAFKA_VERSION}"


def ensure_installed(cache_dir: Path, progress: Progress) -> Path:
    """Resolve Kafka's jars with Maven into the cache (once) and return the libs directory."""
    home = runtime_dir(cache_dir)
    libs = home / "libs"
    marker = home / ".complete"
    if marker.exists():
        return libs
    require_tool("java", "run the Kafka broker (Java 17 or newer)")
    mvn = require_tool("mvn", "download Kafka from Maven Central")
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(_POM.format(kafka=KAFKA_VERSION, slf4j=SLF4J_VERSION))
    progress(
        f"first start: downloading Apache Kafka {KAFKA_VERSION} from Maven Central "
        "(about 40 jars, once; later starts are offline)"
    )
    run_checked(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(home / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        cwd=home,
        what="resolving Kafka with Maven",
    )
    (home / "log4j.properties").write_text(_LOG4J)
    marker.write_text(KAFKA_VERSION)
    progress(f"Kafka {KAFKA_VERSION} cached in {home}")
    return libs


def _properties(config: KafkaConfig) -> str:
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{config.controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{config.port},CONTROLLER://127.0.0.1:{config.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{config.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={config.data_dir / 'logs'}",
            "num.partitions=3",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=10",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "log.flush.interval.messages=1",
            "",
        ]
    )


def _java_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CLASSPATH", None)
    return env


def start(config: KafkaConfig, cache_dir: Path, progress: Progress, *, timeout_s: float) -> int:
    """Format storage if new, start the broker, wait until it accepts clients; return its pid."""
    libs = ensure_installed(cache_dir, progress)
    home = runtime_dir(cache_dir)
    java = require_tool("java", "run the Kafka broker")
    for port in (config.port, config.controller_port):
        if port_open("127.0.0.1", port):
            raise InfraError(
                f"port {port} is already in use by another program; choose another Kafka port "
                "(--kafka-port or SCEAU_KAFKA_PORT)"
            )
    config.data_dir.mkdir(parents=True, exist_ok=True)
    props = config.data_dir / "server.properties"
    props.write_text(_properties(config))
    classpath = f"{libs}/*"
    log4j = f"-Dlog4j.configuration=file:{home / 'log4j.properties'}"
    if not (config.data_dir / "logs" / "meta.properties").exists():
        progress("formatting Kafka storage (KRaft)")
        cluster_id = re.sub(r"[^A-Za-z0-9_-]", "", uuid.uuid4().hex)[:22]
        run_checked(
            [
                java,
                log4j,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(props),
                "--ignore-formatted",
            ],
            cwd=config.data_dir,
            what="formatting Kafka storage",
            env=_java_env(),
        )
    argv = [
        java,
        f"-Xms{config.heap}",
        f"-Xmx{config.heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        log4j,
        "-cp",
        classpath,
        "kafka.Kafka",
        str(props),
    ]
    # Only this start's log lines count: the log file is appended to across restarts.
    offset = config.log_file.stat().st_size if config.log_file.exists() else 0
    pid = start_detached(argv, log_file=config.log_file, env=_java_env())

    def ready() -> bool:
        if not port_open("127.0.0.1", config.port):
            return False
        with config.log_file.open("rb") as log:
            log.seek(offset)
            return b"Kafka Server started" in log.read()

    try:
        wait_until(
            ready,
            timeout_s=timeout_s,
            what=f"Kafka to accept clients on {config.bootstrap}",
            progress=progress,
            alive=lambda: pid_alive(pid),
            log_file=config.log_file,
        )
    except InfraError:
        stop_pid(pid, timeout_s=5)
        raise
    return pid


def stop(pid: int) -> None:
    """Stop the broker cleanly (controlled shutdown on SIGTERM)."""
    stop_pid(pid, timeout_s=45)

"""The Sceau demo story, run by ``scripts/demo`` once the infrastructure is up.

Starts the four services as separate processes against the real Kafka and MongoDB-protocol
server, waits until each reports ready, and prints what runs where. The full story (a college
issues a bilingual series to a cohort, an employer verifies, the college revokes) is built on top
of this as the services land.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sceau_shared.testing.processes import ServiceFailed, ServiceProcess

ROOT = Path(__file__).resolve().parents[1]
PORTS = {"registry": 8002, "issuer": 8001, "verifier": 8003, "notifier": 8004}


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def service_env(name: str, kafka: str, mongo: str) -> dict[str, str]:
    prefix = name.upper()
    return {
        f"{prefix}_KAFKA__BOOTSTRAP_SERVERS": kafka,
        f"{prefix}_MONGO__URI": mongo,
        f"{prefix}_MONGO__DATABASE": f"demo_{name}",
        f"{prefix}_KAFKA__TOPIC_PREFIX": "demo.",
        f"{prefix}_HTTP__PORT": str(PORTS[name]),
        f"{prefix}_HTTP__PUBLIC_BASE_URL": f"http://127.0.0.1:{PORTS[name]}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep-running", action="store_true", help="leave the services running")
    args = parser.parse_args()
    kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    mongo = os.environ["MONGODB_URI"]
    log_dir = ROOT / "demo-output" / "logs"
    services = [
        ServiceProcess(name, port, service_env(name, kafka, mongo), log_dir)
        for name, port in PORTS.items()
    ]
    started = time.monotonic()
    try:
        for service in services:
            say(f"starting {service.name} on {service.url}")
            service.start()
        for service in services:
            service.wait_ready()
            say(f"{service.name} ready ({service.url}/readyz)")
        say(f"all four services ready in {time.monotonic() - started:.1f}s")
        say(f"logs: {log_dir}")
        if args.keep_running:
            say("--keep-running: services stay up; stop them with Ctrl-C")
            while True:
                time.sleep(3600)
    except ServiceFailed as exc:
        say(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        for service in services:
            service.stop()
        say("services stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

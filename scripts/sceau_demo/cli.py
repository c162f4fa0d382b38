"""The demo's command line: arguments, the run's stack, the story, the exit status."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

from sceau_demo.checks import StepFailed
from sceau_demo.console import say
from sceau_demo.output import fresh_output
from sceau_demo.run import run_story
from sceau_demo.stack import busy_ports, choose_ports, drop_databases, run_config, running_sinks
from sceau_demo.story import Story
from sceau_demo.summary import print_summary
from sceau_dev.infra.process import free_port
from sceau_dev.testing.processes import ServiceFailed
from sceau_dev.testing.stack import SERVICES, Stack, StackConfig

ROOT = Path(__file__).resolve().parents[2]


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The options documented in docs/demo.md."""
    parser = argparse.ArgumentParser(description="Run the Sceau demo story.")
    parser.add_argument("--keep-running", action="store_true", help="leave the services running")
    parser.add_argument("--cohort", type=int, default=40, help="learners in the cohort (40)")
    parser.add_argument("--output", type=Path, default=ROOT / "demo-output")
    parser.add_argument(
        "--free-ports", action="store_true", help="pick free ports instead of 8001-8004"
    )
    args = parser.parse_args(argv)
    if args.cohort < 3:
        parser.error("--cohort must be at least 3")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the demo; exit status 0 only when every step reached its expected outcome."""
    args = parse_arguments(argv)
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("MONGODB_URI")
    if not kafka or not mongo:
        say("KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI must be set (scripts/demo does it)")
        return 2
    ports = choose_ports(args.free_ports)
    busy = busy_ports(ports)
    if busy:
        say(f"ports already in use: {', '.join(busy)} — is another demo running? (or --free-ports)")
        return 2
    run_id = uuid.uuid4().hex[:6]
    output: Path = args.output.resolve()
    fresh_output(output)
    config = run_config(kafka=kafka, mongo=mongo, run_id=run_id, output=output, ports=ports)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    say(f"run {run_id}: topics demo{run_id}.*, databases demo_{run_id}_*, output {output}")
    return play(config, args, run_id)


def play(config: StackConfig, args: argparse.Namespace, run_id: str) -> int:
    """Start the sinks and the services, play the story, and always stop what was started."""
    started = time.monotonic()
    output: Path = args.output.resolve()
    stack = Stack(config)
    code = 1
    try:
        with running_sinks(config.smtp_port, free_port()) as (smtp, hooks):
            say(f"SMTP sink on 127.0.0.1:{smtp.port}, webhook receiver on {hooks.url}")
            for name in SERVICES:
                say(f"starting {name} on {config.url(name)}")
            stack.start()
            say(
                f"four services ready in {time.monotonic() - started:.1f}s (logs: {config.log_dir})"
            )
            story = Story(config, smtp, hooks, output, cohort_size=args.cohort, run_id=run_id)
            asyncio.run(run_story(story))
            print_summary(story, time.monotonic() - started)
            code = 0
            if args.keep_running:
                _serve_until_interrupted(story)
    except (StepFailed, ServiceFailed) as exc:
        say(f"FAILED: {exc}")
        say(f"service logs: {config.log_dir}")
    except KeyboardInterrupt:
        say("interrupted")
    finally:
        stack.stop()
        say("services stopped")
        if not args.keep_running:
            with contextlib.suppress(Exception):
                drop_databases(config)
    return code


def _serve_until_interrupted(story: Story) -> None:
    """``--keep-running``: print where everything is, then wait for Ctrl-C (or SIGTERM)."""
    config = story.config
    say("--keep-running: services stay up; Ctrl-C stops them")
    for name in SERVICES:
        say(f"  {name:<9} {config.url(name)}  (docs: {config.url(name)}/docs)")
    say(f"  operator token: {config.operator_token}")
    say(f"  college API key: {story.college.api_key}")
    say(f"  learner page (step 6): {story.summary.learner_page}")
    say(f"  share link (step 6): {story.summary.share_url}")
    while True:
        time.sleep(3600)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM stops the demo like Ctrl-C does: the services are stopped, not orphaned."""
    raise KeyboardInterrupt

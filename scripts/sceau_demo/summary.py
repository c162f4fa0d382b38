"""Step 6: the closing summary of a run, from the figures the story collected."""

from __future__ import annotations

from sceau_demo.console import heading
from sceau_demo.story import Story


def print_summary(story: Story, elapsed: float) -> None:
    """6. The summary."""
    s = story.summary
    heading(6, "Summary")
    rows = [
        ("college", f"{s.institution_id} (did:key, accredited for MicroCredential)"),
        ("cohort", f"{s.learners} learners"),
        ("credentials", ", ".join(f"{k}: {v}" for k, v in s.issued.items())),
        ("overall credential", f"{s.overall_issued}/{s.overall_expected} eligible learners"),
        (
            "e-mails",
            f"{s.emails} ({', '.join(f'{k}: {v}' for k, v in s.emails_by_language.items())})",
        ),
        ("webhooks", ", ".join(f"{k}: {v}" for k, v in sorted(s.webhooks.items()))),
        ("employer", f"{s.verified_before} -> revoked -> {s.verified_after}"),
        ("revocation visible", f"{s.revocation_visible_s:.2f}s after the college's call"),
        (
            "1EdTech OB 3.0",
            f"{s.conformant}/{s.conformance_checked} credentials conform"
            + (f" ({', '.join(sorted(s.conformance_findings))})" if s.conformance_findings else ""),
        ),
        ("output", f"{story.output}/credentials ({s.credentials_written} files), mail/, logs/"),
        ("total time", f"{elapsed:.0f}s"),
    ]
    for name, value in rows:
        print(f"  {name:<20} {value}", flush=True)

"""Step 7: the closing summary of a run, from the figures the story collected."""

from __future__ import annotations

from sceau_demo.console import heading
from sceau_demo.story import Story


def print_summary(story: Story, elapsed: float) -> None:
    """7. The summary."""
    s = story.summary
    heading(7, "Summary")
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
        (
            "share link",
            f"{s.share_verdict} for the employer, grade "
            f"{'hidden' if s.share_grade_hidden else 'SHOWN'}, opened {s.share_opened} time(s)",
        ),
        ("", s.share_url),
        (
            "revoked via the link",
            f"-> {s.share_verdict_after}, "
            f"{s.share_revocation_visible_s:.2f}s after the college's call",
        ),
        (
            "output",
            f"{story.output}/credentials ({s.credentials_written} files), mail/, logs/, "
            f"share/ ({', '.join(s.share_files)})",
        ),
        ("total time", f"{elapsed:.0f}s"),
    ]
    for name, value in rows:
        print(f"  {name:<20} {value}", flush=True)

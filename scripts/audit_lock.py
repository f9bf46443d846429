"""`make audit`: pip-audit over requirements.lock, strict about what it could not check.

pip-audit reports a package it could not look up (service unreachable, package unknown) as
"skipped" and still exits 0. Here a skipped package fails the audit like a vulnerable one: an
audit that checked nothing must not look like a clean one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def main() -> int:
    """Run the audit; print findings; exit 1 on any vulnerability or unchecked package."""
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(LOCK),
        "--require-hashes",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
        *sys.argv[1:],
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(done.stdout + done.stderr, file=sys.stderr)
        return 1
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(
                f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} ({fixed})"
            )
    for dependency in skipped:
        print(f"NOT CHECKED {dependency['name']}: {dependency['skip_reason']}")
    checked = len(dependencies) - len(skipped)
    print(
        f"{checked} of {len(dependencies)} pinned packages checked, {len(vulnerable)} vulnerable."
    )
    return 1 if vulnerable or skipped or done.returncode not in (0, 1) else 0


if __name__ == "__main__":
    sys.exit(main())

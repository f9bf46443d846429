"""`make audit`: pip-audit over requirements.lock, strict about what it could not check.

pip-audit reports a package it could not look up (service unreachable, package unknown) as
"skipped" and still exits 0. Here the exit code tells the three outcomes apart, so an audit
that checked nothing never looks like a clean one:

0  every pinned package was checked and none is known to be vulnerable;
1  a package is known to be vulnerable (or pip-audit itself failed);
2  nothing vulnerable was found, but some packages could not be checked (the vulnerability
   service was unreachable): CI prints this loudly and goes on, see .ci/run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def main() -> int:
    """Run the audit; print findings; exit 1 on a vulnerability, 2 when packages went unchecked."""
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
    if vulnerable or done.returncode not in (0, 1):
        return 1
    return 2 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())

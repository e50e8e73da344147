#!/usr/bin/env python3
"""Render personalised clips from a Cutline template in one batch (docs/automation.md).

    python docs/examples/personalised_batch.py --base-url http://127.0.0.1:8000 \
        --username demo --password cutline-demo --count 20 --out personalised/

Logs in with JWT, finds the template project (by name or id), submits one batch render with an
`Idempotency-Key` (running the script again with the same --key replays the same batch instead of
rendering twice), waits for every job by polling `GET /api/jobs/{id}`, and downloads each MP4.
Only needs httpx. Pass --webhook-url to also be told by signed webhook when each render ends.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import httpx

NAMES = ["Ada", "Grace", "Linus", "Barbara", "Alan", "Edsger", "Margaret", "Dennis", "Frances", "Ken",
         "Radia", "Guido", "Hedy", "Donald", "Katherine", "Tim", "Sophie", "John", "Shafi", "Niklaus"]
BACKGROUNDS = ["Colour bars.mp4", "Test pattern.mp4"]
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED"}


def find_template(client: httpx.Client, template: str) -> dict:
    url = "/api/projects/"
    while url:
        page = client.get(url).raise_for_status().json()
        for project in page["results"]:
            if template in (project["id"], project["name"]):
                return project
        url = page.get("next")
    sys.exit(f"No project named or with id {template!r}. Run `manage.py seed_demo` for the demo template.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="cutline-demo")
    parser.add_argument("--template", default="Demo template: personalised greeting")
    parser.add_argument("--count", type=int, default=20, help="how many clips (at most 100 per batch)")
    parser.add_argument("--preset", default="draft")
    parser.add_argument("--out", type=Path, default=Path("personalised"))
    parser.add_argument("--key", default=None, help="Idempotency-Key (default: a new one per run)")
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()

    with httpx.Client(base_url=args.base_url, timeout=30.0) as client:
        tokens = client.post("/api/auth/jwt/create",
                             json={"username": args.username, "password": args.password}).raise_for_status().json()
        client.headers["Authorization"] = f"Bearer {tokens['access']}"
        obtained = time.monotonic()
        template = find_template(client, args.template)

        items = [{"merge": {"name": NAMES[n % len(NAMES)] + (f" {n // len(NAMES) + 1}" if n >= len(NAMES) else ""),
                            "tagline": f"Clip {n + 1} of {args.count}",
                            "background": BACKGROUNDS[n % len(BACKGROUNDS)]}}
                 for n in range(args.count)]
        body: dict = {"preset": args.preset, "items": items}
        if args.webhook_url:
            body["webhook_url"] = args.webhook_url
        key = args.key or str(uuid.uuid4())
        response = client.post(f"/api/projects/{template['id']}/renders", json=body,
                               headers={"Idempotency-Key": key})
        if response.status_code >= 400:
            sys.exit(f"The batch was refused ({response.status_code}): {response.text}")
        batch = response.json()
        if "webhook" in batch and batch["webhook"]["secret"]:
            print(f"Webhook signing secret (shown once): {batch['webhook']['secret']}")
        jobs = {job["id"]: job for job in batch["jobs"]}
        print(f"Batch {batch['batch_id']}: {len(jobs)} renders (Idempotency-Key {key})")

        deadline = time.monotonic() + args.timeout
        pending = set(jobs)
        while pending and time.monotonic() < deadline:
            time.sleep(1.0)
            if time.monotonic() - obtained > 240:
                # A long wait outlives the 5-minute access token: refresh it (the refresh token rotates,
                # and the old one is blacklisted, so keep the new pair).
                tokens = client.post("/api/auth/jwt/refresh",
                                     json={"refresh": tokens["refresh"]}).raise_for_status().json()
                client.headers["Authorization"] = f"Bearer {tokens['access']}"
                obtained = time.monotonic()
            for job_id in sorted(pending):
                job = client.get(f"/api/jobs/{job_id}").raise_for_status().json()
                jobs[job_id] = job
                if job["status"] in TERMINAL:
                    pending.discard(job_id)
            done = len(jobs) - len(pending)
            print(f"\r{done}/{len(jobs)} finished", end="", flush=True)
        print()

        args.out.mkdir(parents=True, exist_ok=True)
        failed = 0
        for job in sorted(jobs.values(), key=lambda j: j["batch_index"]):
            name = job["merge"]["name"]
            if job["status"] != "SUCCEEDED":
                failed += 1
                print(f"  {name}: {job['status']} {job.get('error_message') or ''}")
                continue
            path = args.out / f"{job['batch_index']:03d}-{name.replace(' ', '_')}.mp4"
            with client.stream("GET", job["result"]["download_url"]) as download:
                download.raise_for_status()
                with path.open("wb") as file:
                    for chunk in download.iter_bytes():
                        file.write(chunk)
            print(f"  {name}: {path} ({job['result']['size_bytes']} bytes, {job['result']['duration']} s)")
        client.post("/api/auth/jwt/logout", json={"refresh": tokens["refresh"]})
        return 1 if failed or pending else 0


if __name__ == "__main__":
    sys.exit(main())

"""Realistic traffic for a running tracker: browsing users (95%) and analysts (5%).

    make load HOST=http://127.0.0.1:8000 USERS=200 SPAWN=20 DURATION=60s TOKEN=...

Browsers open a session, then send page views and clicks in batches the way
the JavaScript client does (up to 20 events, every couple of seconds), with
an occasional single event. Analysts read analytics over the four ranges,
per user and for everyone, and page through a user's movements. The read
token comes from TRACKER_READ_TOKEN (or TOKEN through make).
"""

from __future__ import annotations

import os
import random
import time
import uuid

from locust import FastHttpUser, between, task

PAGES = ["/", "/pricing", "/docs", "/blog", "/signup", "/about", "/features", "/contact"]
RANGES = ["1h", "24h", "7d", "30d"]
KNOWN_USERS = 5_000


def now_ms() -> int:
    return int(time.time() * 1000)


class Browser(FastHttpUser):
    weight = 95
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.user_id = f"user-{random.randrange(KNOWN_USERS)}"
        self.session_id = str(uuid.uuid4())
        self.client.post("/session", json={
            "userId": self.user_id, "sessionId": self.session_id,
            "deviceInfo": {"screen": "1920x1080", "language": "en-GB", "timeZone": "Europe/London",
                           "userAgent": "locust"}}, name="/session")

    def event(self, name: str, data: dict) -> dict:
        return {"userId": self.user_id, "sessionId": self.session_id, "event": name,
                "timestamp": now_ms(), "data": data, "eventId": str(uuid.uuid4())}

    @task(8)
    def browse(self) -> None:
        events = [self.event("page_view", {"path": random.choice(PAGES)})]
        events += [self.event("click", {"target": f"button-{random.randrange(12)}"})
                   for _ in range(random.randrange(0, 19))]
        self.client.post("/track", json={"events": events}, name="/track batch")

    @task(1)
    def single(self) -> None:
        self.client.post("/track", json=self.event("signup", {"plan": "pro"}), name="/track single")


class Analyst(FastHttpUser):
    weight = 5
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {os.environ.get('TRACKER_READ_TOKEN', '')}"}

    @task(2)
    def global_analytics(self) -> None:
        time_range = random.choice(RANGES)
        self.client.get(f"/analytics?timeRange={time_range}", headers=self.headers,
                        name=f"/analytics all {time_range}")

    @task(2)
    def user_analytics(self) -> None:
        time_range = random.choice(RANGES)
        user = f"user-{random.randrange(KNOWN_USERS)}"
        self.client.get(f"/analytics?timeRange={time_range}&userId={user}", headers=self.headers,
                        name=f"/analytics user {time_range}")

    @task(1)
    def page_movements(self) -> None:
        user = f"user-{random.randrange(KNOWN_USERS)}"
        cursor = None
        for _ in range(3):
            url = f"/movements?userId={user}&limit=50" + (f"&cursor={cursor}" if cursor else "")
            response = self.client.get(url, headers=self.headers, name="/movements")
            cursor = response.json().get("nextCursor") if response.status_code == 200 else None
            if not cursor:
                break

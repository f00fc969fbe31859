"""The clinic's busiest day for locust (driven by bench/cluster_load.py, which passes BENCH_SETUP: a JSON file with
the article paths, the location and visit type to book, and a front-desk session).

One simulated visitor per locust user, each request with the visitor's own cookies. The mix, by weight: article
reads 10, slot searches 4 (the days with free times, then one day's times), appointment requests 2 (the form, then
the POST), online bookings 2 (a search, a free time, the details form, the POST), the desk's calendar 2. Accepted
bookings and requests are written to BENCH_RESULTS (one JSON line each) for the checks afterwards.
"""

import json
import os
import random
import re
import time
import urllib.parse
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from locust import HttpUser, between, task

SETUP = json.loads(open(os.environ["BENCH_SETUP"]).read())  # noqa: SIM115
settings.configure(
    SECRET_KEY=SETUP["secret_key"]
)  # the site's key: the form's "started" stamp is signed with it
RESULTS = open(os.environ["BENCH_RESULTS"], "a", buffering=1)  # noqa: SIM115
HIDDEN = re.compile(r'<input type="hidden" name="(csrfmiddlewaretoken|token|started)" value="([^"]*)"')
FLAG = re.compile(r'name="(flag_[a-z_]+)"')
DAY_LINK = re.compile(r'href="/book/\?[^"]*?day=(\d{4}-\d{2}-\d{2})[^"]*"')
TIME_LINK = re.compile(r'href="(/book/details/\?[^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FIRST = ["Maria", "James", "Aisha", "Wei", "Olga", "Carlos", "Fatima", "John", "Priya", "Kofi"]
LAST = ["Lopez", "Smith", "Okafor", "Chen", "Ivanova", "Garcia", "Haddad", "Brien", "Patel", "Nguyen"]


def record(kind, **data):
    RESULTS.write(json.dumps({"kind": kind, **data}) + "\n")


class Visitor(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self):
        self.number = random.randrange(10**9)

    def fresh(self):
        self.client.cookies.clear()
        self.number += 1

    @task(10)
    def read_article(self):
        self.fresh()
        self.client.get(random.choice(SETUP["articles"]), name="article")

    def search(self):
        query = f"location={SETUP['location']}&type={SETUP['type']}&practitioner=any&who=new"
        with self.client.get(f"/book/?{query}", name="slot search: days", catch_response=True) as response:
            days = DAY_LINK.findall(response.text)
            if response.status_code == 200 and not days:
                response.failure("no free day offered")
                return []
        if not days:
            return []
        day = random.choice(days[:10])
        response = self.client.get(f"/book/?{query}&day={day}", name="slot search: times")
        return [link.replace("&amp;", "&") for link in TIME_LINK.findall(response.text)]

    @task(4)
    def slot_search(self):
        self.fresh()
        self.search()

    @task(2)
    def book(self):
        self.fresh()
        times = self.search()
        if not times:
            return
        link = random.choice(times)
        response = self.client.get(link, name="booking: details form")
        token = CSRF.search(response.text)
        if response.status_code != 200 or not token:
            return
        born = date(1950, 1, 1) + timedelta(days=random.randrange(0, 50 * 365))
        data = {
            "csrfmiddlewaretoken": token.group(1),
            "first_name": random.choice(FIRST),
            "last_name": random.choice(LAST),
            "date_of_birth": born.strftime("%m/%d/%Y"),
            "email": f"bench.{self.number}@example.org",
            "phone": "",
            # What the patient chose (location, visit type, practitioner, who, start) travels in the form.
            **dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query)),
        }
        with self.client.post(
            link, data=data, name="booking: book", allow_redirects=False, catch_response=True
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code == 302 and "/book/manage/" in location:
                record("booking", manage=location.rstrip("/").rsplit("/", 1)[-1], email=data["email"])
                response.success()
            elif response.status_code == 409:
                record("booking-taken")
                response.success()  # "That time was just taken": the race the database settles, not an error
            else:
                response.failure(f"HTTP {response.status_code}")

    @task(2)
    def request_appointment(self):
        self.fresh()
        response = self.client.get("/request-appointment/", name="request: form")
        form = dict(HIDDEN.findall(response.text))
        if response.status_code != 200 or "token" not in form:
            return
        form["started"] = signing.dumps(
            f"{time.time() - 60:.3f}", salt="appointments.form-started", key=SETUP["secret_key"]
        )
        born = date(1945, 1, 1) + timedelta(days=random.randrange(0, 60 * 365))
        form.update(
            {
                "first_name": random.choice(FIRST),
                "last_name": random.choice(LAST),
                "date_of_birth": born.strftime("%m/%d/%Y"),
                "phone": f"(212) 555-01{self.number % 100:02d}",
                "email": "",
                "contact_method": "phone",
                "patient_status": "new",
                "reason": "lower_back",
                "reason_detail": "",
                "pain_duration": "chronic",
                "preferred_time_1": "morning",
                "insurance_carrier": "",
                "has_medicare": "no",
                "message": "",
                "consent_to_contact": "on",
                "website": "",
            }
        )
        for flag in set(FLAG.findall(response.text)):
            form[flag] = "no"
        with self.client.post(
            "/request-appointment/",
            data=form,
            name="request: send",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302 and "/received/" in response.headers.get("Location", ""):
                record("request", token=form["token"])
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")

    @task(2)
    def desk_calendar(self):
        self.fresh()
        self.client.cookies.set("sessionid", SETUP["desk_session"])
        with self.client.get("/admin/schedule/", name="desk: day calendar", catch_response=True) as response:
            if response.status_code != 200 or "/admin/login/" in response.url:
                response.failure(f"not the calendar (HTTP {response.status_code})")

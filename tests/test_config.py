"""Settings from the environment: a bad value stops start-up with one line naming it."""

from __future__ import annotations

import pytest

from helpers import service_env, start_and_fail


@pytest.mark.parametrize("bad", ["0", "-3", "week"])
def test_a_bad_retention_refuses_to_start_with_one_line(data_dir, bad):
    result = start_and_fail(service_env(data_dir, TRACKER_RETENTION_DAYS=bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"tracker: TRACKER_RETENTION_DAYS='{bad}': must be an integer >= 1"


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "smtp://a:secret@host:99999",
                                 "mail.example.com:25"])
def test_a_bad_smtp_url_is_refused_without_repeating_it(data_dir, url):
    result = start_and_fail(service_env(data_dir, TRACKER_SMTP_URL=url,
                                        TRACKER_MAIL_FROM="reports@example.com"))
    assert result.returncode == 2
    assert result.stderr.startswith("tracker: TRACKER_SMTP_URL=(hidden): ")
    assert "secret" not in result.stderr and "example.com" not in result.stderr


def test_a_mail_server_without_a_sender_is_refused(data_dir):
    result = start_and_fail(service_env(data_dir, TRACKER_SMTP_URL="smtp://127.0.0.1:25"))
    assert result.returncode == 2
    assert "TRACKER_MAIL_FROM" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name, bad", [("TRACKER_MAIL_FROM", "reports"),
                                       ("TRACKER_PUBLIC_URL", "tracker.example.com"),
                                       ("TRACKER_REPORT_RETRY_SECONDS", "0")])
def test_bad_report_settings_are_named(data_dir, name, bad):
    result = start_and_fail(service_env(data_dir, **{name: bad}))
    assert result.returncode == 2
    assert result.stderr.startswith(f"tracker: {name}='{bad}': ")

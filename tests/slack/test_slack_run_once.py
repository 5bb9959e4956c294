"""`triage run --once` with Slack configured posts the cards before it exits."""

from __future__ import annotations

import asyncio

from slack_helpers import REVIEW, email_bytes, settings_env, settings_table


def test_run_once_with_slack_posts_each_card_once(tmp_path, fake, shipped_model, monkeypatch):
    from connectors.bootstrap import build_app
    from triage.config import FolderSettings, Settings

    for name, value in settings_env(fake).items():
        monkeypatch.setenv(name, value)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(email_bytes(subject="Missed visits"))
    (inbox / "b.eml").write_bytes(email_bytes(subject="Charges", message_id="<c2@example.org>",
                                              body="The invoice charges mum for weeks "
                                              "she was in hospital. I want it corrected and refunded."))
    settings = Settings(store_url=f"sqlite:///{tmp_path}/triage.db", reviewer="slack", slack=settings_table(),
                        folders=[FolderSettings(path=str(inbox), format="dir", poll_seconds=1)])
    settings.check()

    counts = asyncio.run(build_app(settings, model=shipped_model).run_once())
    assert counts == {"delivered": 2, "processed": 2, "dispatched": 2}
    cards = fake.messages(REVIEW)
    assert sorted(c["metadata"]["event_payload"]["message_id"] for c in cards) == [1, 2]

    # a second pass finds nothing new and posts nothing again
    counts = asyncio.run(build_app(settings, model=shipped_model).run_once())
    assert counts == {"delivered": 0, "processed": 0, "dispatched": 0}
    assert len(fake.messages(REVIEW)) == 2

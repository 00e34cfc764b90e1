"""The casework results: ``plain`` (what the command line prints) keeps a richer item's extra
fields in their place and leaves out an audit event the service did not set; the API's
serialisation (the declared shape) publishes neither the extra fields nor less than its
schema."""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from pydantic import TypeAdapter

from accord.services.casework_results import (
    DisputeEvent,
    DisputeItemOut,
    DisputeOut,
    Notification,
    NotificationOut,
    ResolutionOut,
    SubjectNotificationOut,
)

EVENT = {"seq": 7, "dispute_id": "D-000001", "event": "filed", "on_date": "2026-11-23",
         "recorded_at": "2026-11-23T10:00:00+00:00", "user_id": "pat", "text": None, "appeal_rights": None,
         "batch_id": None, "version": None}
DISPUTE = {"dispute_id": "D-000001", "person_id": "P000000001", "source": "ssa", "record_id": "r1",
           "field": "dob", "claimed_value": "1950-01-02", "statement": "not my birth date", "filed_by": "pat",
           "filed_on": "2026-11-23", "acknowledge_by": "2026-12-08", "state": "filed",
           "acknowledged_on": None, "acknowledged_late": False, "statement_of_disagreement": None}
NOTICE = {"notification_id": 3, "dispute_id": "D-000001", "person_id": "P000000001", "kind": "correction",
          "recipient": "owner", "address": None, "disclosure_seq": None, "record_disclosed": None,
          "notified_at": "2026-11-23T10:00:00+00:00"}


def _published(shape: type[Any], value: Any) -> Any:
    """``value`` as the API serialises a route's response model ``shape``."""
    adapter = TypeAdapter(shape)
    return jsonable_encoder(adapter.dump_python(adapter.validate_python(value), mode="json"))


def test_plain_prints_an_events_ids_in_place_and_the_api_does_not_publish_them() -> None:
    item = DisputeItemOut.model_validate(DISPUTE | {"events": [DisputeEvent.model_validate(EVENT)],
                                                    "overdue": False})
    printed = item.plain()
    assert list(printed) == [*DISPUTE, "events", "overdue"]          # no audit_event: the service set none
    assert printed["events"] == [EVENT] and list(printed["events"][0]) == list(EVENT)
    published = _published(DisputeItemOut, item)
    assert published["audit_event"] is None                          # the schema's field, null
    assert published["events"] == [{k: v for k, v in EVENT.items() if k not in ("seq", "dispute_id")}]
    read = item.model_copy(update={"audit_event": 12})
    assert read.plain()["audit_event"] == 12 and _published(DisputeItemOut, read)["audit_event"] == 12


def test_a_notice_is_printed_with_its_id_and_person_and_published_as_its_shape() -> None:
    dispute = DisputeOut.model_validate(DISPUTE | {"events": []})
    resolution = ResolutionOut(dispute=dispute, batch_id=None, version=None,
                               notifications=[Notification.model_validate(NOTICE)])
    assert resolution.plain()["notifications"] == [NOTICE]
    assert list(resolution.plain()["notifications"][0]) == list(NOTICE)
    published = _published(ResolutionOut, resolution)["notifications"][0]
    assert published == {k: v for k, v in NOTICE.items() if k != "notification_id"}
    # In the subject-access report the person is printed but not published.
    in_report = NotificationOut.model_validate({k: v for k, v in NOTICE.items() if k != "notification_id"})
    assert _published(SubjectNotificationOut, in_report) == {
        k: v for k, v in NOTICE.items() if k not in ("notification_id", "person_id")}
    assert list(in_report.plain()) == [k for k in NOTICE if k != "notification_id"]

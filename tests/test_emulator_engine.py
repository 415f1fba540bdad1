"""The emulator's engine on its own (no HTTP): routing, statistics, time, cache, faults.

Each test drives the engine as the suite would through SOAP and the control plane, on a clock
whose real-time source is frozen, so that every instant (an expiry boundary, a preferred-agent
timeout) is exact.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from conformance.contract.constraints import CONSTRAINTS
from conformance.emulator.engine import Engine, errors
from conformance.emulator.engine.clock import UTC, Clock
from conformance.emulator.engine.errors import ControlError, ServiceFault
from conformance.emulator.engine.model import (
    AddInput,
    CancelInput,
    DivertInput,
    IvrItem,
    ModifyInput,
    OptionsInput,
    RequestStatus,
    Status,
)
from conformance.emulator.engine.scenario import demo_scenario, parse_scenario

START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
IVR = (IvrItem(data="123", label="Case"),)
EXPIRY = timedelta(minutes=30)


class FrozenTime:
    """A real-time source that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def time() -> FrozenTime:
    return FrozenTime()


@pytest.fixture
def engine(time: FrozenTime) -> Engine:
    return Engine(demo_scenario(), clock=Clock(time))


def add(engine: Engine, **members: object) -> int:
    members.setdefault("ivr_info", IVR)
    members.setdefault("service_group_id", 10)
    result = engine.add_request(AddInput(**members))  # type: ignore[arg-type]
    assert result.request_status is RequestStatus.SUCCESS, result
    return result.open_media_id


def statuses(engine: Engine, open_media_id: int) -> list[str]:
    history = engine.history_by_id(open_media_id, datetime.min.replace(tzinfo=UTC))
    return [event.status.value for event in history.open_media_requests]


def fault_of(call: object, *args: object) -> str:
    with pytest.raises(ServiceFault) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.detail


# -- AddRequest ---------------------------------------------------------------------------


def test_at_once_allocation_records_queued_then_allocated(engine: Engine) -> None:
    engine.logon(501)
    result = engine.add_request(AddInput(ivr_info=IVR, service_group_id=10))
    assert (result.queue_position, result.ewt) == (0, 0)
    history = engine.history_by_id(result.open_media_id, START - timedelta(days=1))
    queued, allocated = history.open_media_requests
    assert (queued.status, queued.queue_position, queued.agent_id) == (Status.QUEUED, 0, 0)
    assert (allocated.status, allocated.agent_id, allocated.logon_id, allocated.tenant_id) == (
        Status.ALLOCATED,
        501,
        "5001",
        1,
    )
    assert queued.time_stamp < allocated.time_stamp < history.time_stamp


def test_positions_history_keeps_position_when_queued_status_shows_current(engine: Engine) -> None:
    first, _, third = (add(engine, service_group_id=11) for _ in range(3))
    assert engine.status_by_id(third).open_media_requests[0].queue_position == 3
    assert engine.cancel_request(CancelInput(open_media_id=first))
    assert engine.status_by_id(third).open_media_requests[0].queue_position == 2
    history = engine.history_by_id(third, START - timedelta(days=1)).open_media_requests
    assert [e.queue_position for e in history] == [3]
    by_id = {r.id: r.queue_position for r in engine.all_status().open_media_requests}
    assert by_id[third] == 2 and by_id[first] == 0


def test_group_resolution_and_request_statuses(engine: Engine) -> None:
    def status(**members: object) -> RequestStatus:
        members.setdefault("ivr_info", IVR)
        return engine.add_request(AddInput(**members)).request_status  # type: ignore[arg-type]

    assert status(tenant_id=1, service_group_name="Sales") is RequestStatus.SUCCESS
    assert status(service_group_id=11, tenant_id=1, service_group_name="Nope") is (
        RequestStatus.SUCCESS
    )
    assert status() is RequestStatus.INVALID_GROUP  # R6: nothing usable
    assert status(service_group_name="Sales") is RequestStatus.INVALID_GROUP
    assert status(service_group_id=999) is RequestStatus.INVALID_GROUP
    assert status(service_group_id=13) is RequestStatus.INVALID_GROUP  # not Open Media
    assert status(service_group_id=12) is RequestStatus.GROUP_CLOSED
    assert status(service_group_id=20) is RequestStatus.TENANT_DISABLED
    engine.set_group_open(12, True)
    assert status(service_group_id=12) is RequestStatus.SUCCESS


def test_ids_increase_and_survive_reset_and_restart(engine: Engine) -> None:
    first = add(engine)
    engine.restart()
    assert fault_of(engine.status_by_id, first) == errors.INVALID_OPEN_MEDIA_ID
    second = add(engine)
    engine.reset(demo_scenario())
    third = add(engine)
    assert first < second < third


def test_limits_come_from_constraints(engine: Engine) -> None:
    label = CONSTRAINTS.length("Label").max
    astral = "\U0001f600"  # two UTF-16 code units (R2)
    add(engine, ivr_info=(IvrItem(data="d", label="x" * (label - 2) + astral),))
    too_long = (IvrItem(data="d", label="x" * (label - 1) + astral),)
    assert fault_of(engine.add_request, AddInput(ivr_info=too_long, service_group_id=10)) == (
        errors.INVALID_DATA
    )
    name = "n" * (CONSTRAINTS.length("ServiceGroupName").max + 1)
    refused = [
        AddInput(ivr_info=IVR, tenant_id=1, service_group_name=name),
        AddInput(ivr_info=(), service_group_id=10),  # R7
        AddInput(ivr_info=(IvrItem("", ""),), service_group_id=10),
        AddInput(ivr_info=IVR * (CONSTRAINTS.count("IVRInformation").max + 1), service_group_id=10),
        AddInput(
            ivr_info=IVR,
            service_group_id=10,
            session_priority=CONSTRAINTS.range("AddOpenMediaRequest", "SessionPriority").max + 1,
        ),
        AddInput(ivr_info=IVR, service_group_id=10, type_of_session=-2),
    ]
    for request in refused:
        assert fault_of(engine.add_request, request) == errors.INVALID_DATA, request
    for not_given in CONSTRAINTS.range("AddOpenMediaRequest", "SessionPriority").not_given:
        add(engine, session_priority=not_given, type_of_session=not_given, tenant_id=not_given)


def test_queue_start_time_in_future_is_ignored(engine: Engine, time: FrozenTime) -> None:
    past = add(engine, queue_start_time=START - timedelta(hours=1), service_group_id=11)
    future = add(engine, queue_start_time=START + timedelta(hours=1), service_group_id=11)
    assert engine.request_view(past)["queue_time"] == "2026-11-27T09:00:00.000000Z"
    assert engine.request_view(future)["queue_time"].startswith("2026-11-27T10:00:00")


# -- routing model -------------------------------------------------------------------------


def test_queue_order_session_priority_and_queue_start_time(engine: Engine) -> None:
    plain = add(engine)
    low = add(engine, session_priority=50)
    high = add(engine, session_priority=10)
    early = add(engine, queue_start_time=START - timedelta(hours=1), session_priority=90)
    assert engine.state()["service_groups"][0]["queue"] == [early, high, low, plain]
    engine.logon(502)
    assert engine.status_by_id(early).open_media_requests[0].agent_id == 502


def test_group_without_session_priority_is_by_queue_time(engine: Engine) -> None:
    first = add(engine, service_group_id=11, session_priority=90)
    second = add(engine, service_group_id=11, session_priority=1)
    assert engine.state()["service_groups"][1]["queue"] == [first, second]


def test_agent_choice_fewest_sessions_then_became_free_first(engine: Engine) -> None:
    assert engine.set_options(OptionsInput(max_number_of_sessions=2))
    engine.logon(502)
    engine.logon(501)
    agents = [engine.status_by_id(add(engine)).open_media_requests[0].agent_id for _ in range(4)]
    assert agents == [502, 501, 502, 501]
    assert add(engine) and engine.state()["service_groups"][0]["queue"]


def test_freed_agent_takes_oldest_queued_request(engine: Engine) -> None:
    engine.logon(501)
    busy = add(engine, service_group_id=11)
    waiting_11 = add(engine, service_group_id=11)
    waiting_10 = add(engine, service_group_id=10)
    engine.answer(busy)
    engine.complete(busy)
    assert engine.status_by_id(waiting_11).open_media_requests[0].status is Status.ALLOCATED
    assert engine.status_by_id(waiting_10).open_media_requests[0].status is Status.QUEUED
    with pytest.raises(ControlError) as refused:
        engine.logoff(501)
    assert refused.value.status == 409


def test_preferred_agent_and_force(engine: Engine) -> None:
    engine.logon(501)
    engine.logon(502)
    assert (
        engine.status_by_id(add(engine, preferred_agent_id=502)).open_media_requests[0].agent_id
        == 502
    )
    soft = add(engine, preferred_agent_logon_id="5002")  # 502 busy: anyone else
    assert engine.status_by_id(soft).open_media_requests[0].agent_id == 501
    assert engine.add_request(
        AddInput(
            ivr_info=IVR, service_group_id=10, preferred_agent_id=503, force_to_preferred_agent=True
        )
    ).request_status is (RequestStatus.AGENT_LOGGED_OFF)
    other_group = add(
        engine, service_group_id=11, preferred_agent_id=503, force_to_preferred_agent=True
    )  # no preferred_agent on 11: ignored
    assert engine.status_by_id(other_group).open_media_requests[0].status is Status.QUEUED


def test_forced_request_fails_after_preferred_agent_timeout(engine: Engine) -> None:
    engine.logon(502)
    add(engine)  # 502 now busy
    forced = add(engine, preferred_agent_id=502, force_to_preferred_agent=True)
    timeout = demo_scenario().service_groups[0].preferred_agent_timeout_s
    engine.advance(timeout - 1)
    assert engine.status_by_id(forced).open_media_requests[0].status is Status.QUEUED
    engine.logon(501)  # another free agent may not take a forced request
    assert engine.status_by_id(forced).open_media_requests[0].status is Status.QUEUED
    engine.advance(1)
    assert statuses(engine, forced) == ["Queued", "Failed"]


def test_allow_different_types_is_checked_for_the_incoming_request(engine: Engine) -> None:
    values = CONSTRAINTS.option_values["AllowDifferentTypes"]
    engine.set_options(OptionsInput(max_number_of_sessions=2))
    engine.set_options(OptionsInput(type_of_session=1, allow_different_types=values["dont_allow"]))
    engine.set_options(OptionsInput(type_of_session=2, allow_different_types=values["allow"]))
    engine.logon(503)
    add(engine, service_group_id=11, type_of_session=1)
    allowed = add(engine, service_group_id=11, type_of_session=2)
    assert engine.status_by_id(allowed).open_media_requests[0].agent_id == 503
    engine.reset(demo_scenario())
    engine.set_options(OptionsInput(max_number_of_sessions=2))
    engine.set_options(OptionsInput(type_of_session=1, allow_different_types=values["dont_allow"]))
    engine.logon(503)
    add(engine, service_group_id=11, type_of_session=2)
    refused = add(engine, service_group_id=11, type_of_session=1)
    assert engine.status_by_id(refused).open_media_requests[0].status is Status.QUEUED
    engine.set_options(OptionsInput(type_of_session=1, reset_all_options=True))  # routes again
    assert engine.status_by_id(refused).open_media_requests[0].agent_id == 503
    assert engine.state()["options"] == {"0": {"MaxNumberOfSessions": 2}}


def test_set_options_ranges(engine: Engine) -> None:
    needs_type = CONSTRAINTS.requires_type_of_session[0]
    for request in (
        OptionsInput(**{"agent_action_options": needs_type.values[0]}),
        OptionsInput(
            close_tab_options=CONSTRAINTS.range("SetOptionsRequest", "CloseTabOptions").max + 1
        ),
        OptionsInput(type_of_session=-2),
        OptionsInput(type_of_session=-1, agent_action_options=needs_type.values[0]),
        OptionsInput(max_number_of_sessions=-1),
    ):
        assert fault_of(engine.set_options, request) == errors.INVALID_DATA, request
    # R5: TypeOfSession -1 is "not given", which for SetOptions means all types
    assert engine.set_options(OptionsInput(type_of_session=-1, max_number_of_sessions=2))
    assert engine.state()["options"]["0"] == {"MaxNumberOfSessions": 2}
    assert engine.set_options(
        OptionsInput(
            type_of_session=3, agent_action_options=2, session_link_options=1, close_tab_options=4
        )
    )
    assert engine.state()["options"]["3"] == {
        "AgentActionOptions": 2,
        "CloseTabOptions": 4,
        "SessionLinkOptions": 1,
    }


# -- CancelRequest / DivertRequest / ModifyRequest -----------------------------------------


def group_stats(engine: Engine, group_id: int) -> dict[str, int]:
    return engine.statistics()["service_groups"][str(group_id)]


def agent_stats(engine: Engine, agent_id: int) -> dict[str, int]:
    return engine.statistics()["agents"][str(agent_id)]


def test_cancel_queued_reports_abandoned_unless_do_not_report(engine: Engine) -> None:
    queued = add(engine)
    silent = add(engine)
    assert engine.cancel_request(CancelInput(open_media_id=queued))
    assert engine.cancel_request(CancelInput(open_media_id=silent, do_not_report=True))
    assert group_stats(engine, 10) == {
        "offered": 1,
        "abandoned": 1,
        "completed": 0,
        "overflowed_in": 0,
        "overflowed_out": 0,
    }
    assert statuses(engine, queued) == ["Queued", "Cancelled"]
    assert fault_of(engine.cancel_request, CancelInput(open_media_id=queued)) == (
        errors.REQUEST_TERMINATED
    )
    assert fault_of(engine.cancel_request, CancelInput(open_media_id=10**6)) == (
        errors.INVALID_OPEN_MEDIA_ID
    )


def test_cancel_allocated_and_answered(engine: Engine) -> None:
    engine.logon(502)
    allocated = add(engine)
    assert engine.cancel_request(CancelInput(open_media_id=allocated)) is False  # R9
    assert engine.status_by_id(allocated).open_media_requests[0].status is Status.ALLOCATED
    assert engine.cancel_request(
        CancelInput(open_media_id=allocated, cancel_if_allocated=True, do_not_report=True)
    )
    assert group_stats(engine, 10)["abandoned"] == 1  # allocated: must be reported
    assert agent_stats(engine, 502) == {"offered": 1, "answered": 0}
    answered = add(engine)
    engine.answer(answered)
    assert engine.cancel_request(CancelInput(open_media_id=answered, cancel_if_allocated=True))
    assert group_stats(engine, 10)["completed"] == 1
    assert agent_stats(engine, 502) == {"offered": 2, "answered": 1}
    assert engine.state()["agents"][1]["sessions"] == []


def test_divert_keeps_queue_time_and_reports_overflow(engine: Engine) -> None:
    request = add(engine, service_group_id=11, queue_start_time=START - timedelta(minutes=5))
    result = engine.divert_request(
        DivertInput(open_media_id=request, tenant_id=1, service_group_name="Support")
    )
    assert result.request_status is RequestStatus.SUCCESS
    view = engine.request_view(request)
    assert (view["service_group_id"], view["queue_time"]) == (10, "2026-11-27T09:55:00.000000Z")
    assert group_stats(engine, 11)["overflowed_out"] == 1
    assert group_stats(engine, 10)["overflowed_in"] == 1
    history = engine.history_by_id(request, START - timedelta(days=1)).open_media_requests
    assert [(e.status.value, e.service_group_id) for e in history] == [
        ("Queued", 11),
        ("Queued", 10),
    ]


def test_divert_removes_from_agent(engine: Engine) -> None:
    engine.logon(503)
    request = add(engine, service_group_id=11)
    engine.answer(request)
    result = engine.divert_request(DivertInput(open_media_id=request, service_group_id=10))
    assert (result.open_media_id, result.request_status) == (request, RequestStatus.SUCCESS)
    assert engine.state()["agents"][2]["sessions"] == []
    assert agent_stats(engine, 503) == {"offered": 1, "answered": 1}


def test_divert_failures(engine: Engine) -> None:
    request = add(engine, service_group_id=11)

    def divert(**members: object) -> RequestStatus:
        return engine.divert_request(DivertInput(**members)).request_status  # type: ignore[arg-type]

    assert divert(open_media_id=10**6, service_group_id=10) is RequestStatus.INVALID_ID
    assert divert(open_media_id=request, service_group_id=999) is RequestStatus.INVALID_GROUP
    assert divert(open_media_id=request, service_group_id=12) is RequestStatus.GROUP_CLOSED
    assert divert(open_media_id=request, service_group_id=20) is RequestStatus.TENANT_DISABLED
    assert fault_of(engine.divert_request, DivertInput(open_media_id=request)) == (
        errors.INVALID_DATA
    )
    engine.cancel_request(CancelInput(open_media_id=request))
    assert divert(open_media_id=request, service_group_id=10) is RequestStatus.INVALID_ID


def test_modify_merges_by_label(engine: Engine) -> None:
    request = add(engine, ivr_info=(IvrItem("1", "A"), IvrItem("2", "B")), private_data="p")
    assert engine.modify_request(
        ModifyInput(
            ivr_info=(IvrItem("9", "B"), IvrItem("3", "C"), IvrItem("4", "D")),
            open_media_id=request,
        )
    )
    view = engine.request_view(request)
    assert [(i["label"], i["data"]) for i in view["ivr_info"]] == [
        ("A", "1"),
        ("B", "9"),
        ("C", "3"),
        ("D", "4"),
    ]
    assert view["private_data"] == "p"
    too_many = IVR * (CONSTRAINTS.count("IVRInformation").max + 1)
    assert fault_of(
        engine.modify_request, ModifyInput(ivr_info=too_many, open_media_id=request)
    ) == (errors.INVALID_DATA)
    assert fault_of(engine.modify_request, ModifyInput(ivr_info=IVR, open_media_id=10**6)) == (
        errors.INVALID_OPEN_MEDIA_ID
    )
    engine.logon(502)
    assert engine.modify_request(ModifyInput(ivr_info=IVR, open_media_id=request)) is False


# -- status requests, time and the cache ---------------------------------------------------


def test_timestamp_fed_back_never_repeats_or_skips(engine: Engine, time: FrozenTime) -> None:
    """R12 with a frozen real clock: every reading is still strictly later."""
    seen: list[tuple[int, str]] = []
    later_than = datetime.min.replace(tzinfo=UTC)
    engine.logon(502)  # serves group 10 only: the group 11 requests stay queued
    for step in range(5):
        request = add(engine, service_group_id=11 if step % 2 else 10)
        if step % 2 == 0:
            engine.answer(request)
            engine.complete(request)
        answer = engine.requests_by_time(later_than)
        seen += [(e.id, e.status.value) for e in answer.open_media_requests]
        assert all(e.time_stamp <= answer.time_stamp for e in answer.open_media_requests)
        later_than = answer.time_stamp
    everything = engine.requests_by_time(datetime.min.replace(tzinfo=UTC)).open_media_requests
    assert seen == [(e.id, e.status.value) for e in everything]
    assert len(set(seen)) == len(seen)
    assert engine.requests_by_time(later_than).open_media_requests == ()


def test_history_after_last_event_is_empty(engine: Engine) -> None:
    request = add(engine)
    stamp = engine.status_by_id(request).time_stamp
    assert engine.history_by_id(request, stamp).open_media_requests == ()  # R19


def test_cache_expiry_boundary(engine: Engine, time: FrozenTime) -> None:
    """R14: present while now < terminal + DataExpiration, gone from that instant on."""
    request = add(engine)
    live = add(engine)
    engine.cancel_request(CancelInput(open_media_id=request))
    terminal = engine.status_by_id(request).open_media_requests[0].time_stamp
    time.now = terminal + EXPIRY - timedelta(microseconds=1)
    assert engine.status_by_id(request).open_media_requests[0].status is Status.CANCELLED
    time.now = terminal + EXPIRY
    assert fault_of(engine.status_by_id, request) == errors.INVALID_OPEN_MEDIA_ID
    assert fault_of(engine.history_by_id, request, START) == errors.INVALID_OPEN_MEDIA_ID
    assert [r.id for r in engine.all_status().open_media_requests] == [live]
    assert {e.id for e in engine.requests_by_time(START).open_media_requests} == {live}
    with pytest.raises(ControlError) as gone:
        engine.request_view(request)
    assert gone.value.status == 404
    time.now += timedelta(days=1)
    assert engine.status_by_id(live).open_media_requests[0].status is Status.QUEUED  # never


def test_advance_runs_expiry(engine: Engine) -> None:
    request = add(engine)
    engine.cancel_request(CancelInput(open_media_id=request))
    engine.advance(EXPIRY.total_seconds() - 1)
    assert engine.status_by_id(request).open_media_requests[0].status is Status.CANCELLED
    engine.advance(1)
    assert fault_of(engine.status_by_id, request) == errors.INVALID_OPEN_MEDIA_ID


def test_router_loss_fails_open_requests(engine: Engine) -> None:
    engine.logon(501)
    allocated, queued = add(engine), add(engine)
    done = add(engine, service_group_id=11)
    engine.logon(503)
    engine.answer(done)
    engine.complete(done)
    engine.set_router(False)
    assert statuses(engine, allocated)[-1] == "Failed"
    assert statuses(engine, queued) == ["Queued", "Failed"]
    assert statuses(engine, done)[-1] == "Complete"
    assert engine.state()["agents"][0]["sessions"] == []
    assert fault_of(engine.admit, "AddRequest", None, None) == errors.ROUTER_DISCONNECTED
    engine.admit("GetOpenMediaRequestStatusByID", None, None)  # status queries still answer
    engine.set_router(True)
    engine.admit("AddRequest", None, None)


def test_license_and_authentication(engine: Engine) -> None:
    engine.set_license(False)
    assert fault_of(engine.admit, "SetOptions", None, None) == errors.NO_LICENSE
    engine.admit("GetServiceGroupStatus", None, None)  # does not declare NoLicenseFault
    engine.set_license(True)
    engine.admit("AddRequest", "nobody", "wrong")  # authentication off: ignored
    raw = {
        "authentication": {
            "enabled": True,
            "users": [
                {"logon_id": "admin", "password": "secret", "host_administrator": True},
                {"logon_id": "clerk", "password": "clerk"},
            ],
        }
    }
    engine.reset(parse_scenario(raw))
    engine.admit("GetAllOpenMediaRequestStatus", "admin", "secret")
    for logon_id, password in (("admin", "wrong"), ("clerk", "clerk"), (None, None)):
        assert fault_of(engine.admit, "GetAllOpenMediaRequestStatus", logon_id, password) == (
            errors.INVALID_USER
        )


def test_service_groups_and_agents_by_group(engine: Engine) -> None:
    assert [s.service_group_id for s in engine.all_service_group_status(1).status] == [10, 11, 12]
    assert engine.service_group_status(12).open is False
    assert engine.agents_by_group(10).agent_list == (501, 502)
    for call, argument in (
        (engine.service_group_status, 13),
        (engine.service_group_status, 99),
        (engine.agents_by_group, 13),
        (engine.all_service_group_status, 2),
        (engine.all_service_group_status, 7),
    ):
        assert fault_of(call, argument) == errors.INVALID_DATA

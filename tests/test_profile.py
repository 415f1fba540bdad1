"""Target profiles: the shipped ones load, and every kind of mistake names the file and key.

A profile is written by hand by someone configuring a vendor server; the error message is all
they have. So each mistake is planted in an otherwise valid profile and the message is checked
for the key's full name and a way to fix it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from conformance.contract.paths import fixtures_dir
from conformance.plugin.options import PREFIX
from conformance.plugin.settings import OptionValues, build_settings
from conformance.profile import Profile, bundled_profile, load_profile
from conformance.verdicts import NotApplicable, UsageError

VALID = """
data_expiration_minutes = 15

[target]
name = "test system"

[auth]
enabled = true
logon_id = "admin"
password_env = "TEST_OM_PASSWORD"

[tenant]
id = 3
disabled_id = 4

[[groups]]
id = 30
name = "Chat"
role = "open"
preferred_agent = true

[[groups]]
id = 31
name = "Shut"
role = "closed"

[[groups]]
id = 32
name = "Phone"
role = "not-open-media"

[[groups]]
id = 40
name = "Elsewhere"
tenant_id = 4
role = "open"

[[agents]]
id = 7
logon_id = "7007"
groups = [30]

[control]
features = ["scenario", "agents"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert str(path) in message, "the message names the file"
    return message


# -- valid profiles --------------------------------------------------------------------------
def test_a_valid_profile_loads_with_every_value(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, VALID))
    assert profile.target.name == "test system"
    assert profile.target.safe_mode is True  # the default for anything but the emulator
    assert profile.tenant.id == 3 and profile.tenant.disabled_id == 4
    assert [g.id for g in profile.groups] == [30, 31, 32, 40]
    assert profile.group(40).tenant_id == 4 and profile.group(30).tenant_id == 3
    assert profile.group(30).preferred_agent and not profile.group(31).preferred_agent
    assert profile.agents[0].groups == (30,)
    assert profile.data_expiration_minutes == 15
    assert profile.control_features == frozenset({"scenario", "agents"})
    assert profile.auth.password is None and profile.auth.password_env == "TEST_OM_PASSWORD"
    assert profile.auth.resolved_password({"TEST_OM_PASSWORD": "pw"}) == "pw"


def test_queries_a_test_uses(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, VALID))
    assert profile.group_with("open").id == 30
    assert profile.group_with("open", preferred_agent=True).id == 30
    assert profile.group_with("open", tenant_id=4).id == 40
    assert profile.group_with("closed").id == 31
    assert [a.id for a in profile.agents_in(30)] == [7]
    with pytest.raises(NotApplicable) as caught:
        profile.group_with("closed", session_priority=True)
    assert "role=closed, session_priority=True" in str(caught.value)


def test_shipped_profiles_load(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = load_profile(bundled_profile("emulator"))
    assert emulator.target.safe_mode is False
    vendor = load_profile(fixtures_dir() / "profiles" / "vendor-example.toml")
    assert vendor.auth.enabled and vendor.auth.password is None and vendor.auth.password_env
    assert vendor.target.safe_mode is True
    assert vendor.control_features == frozenset()


def test_emulator_profile_describes_the_demo_scenario() -> None:
    """to_scenario() of emulator.toml is fixtures/scenarios/demo.json (defaults filled in)."""
    demo = json.loads((fixtures_dir() / "scenarios" / "demo.json").read_text(encoding="utf-8"))
    for group in demo["service_groups"]:
        group.setdefault("preferred_agent_timeout_s", 30)
    assert load_profile(bundled_profile("emulator")).to_scenario() == demo


def test_to_scenario_follows_roles_and_resolves_passwords(tmp_path: Path) -> None:
    scenario = load_profile(write(tmp_path, VALID)).to_scenario({"TEST_OM_PASSWORD": "pw"})
    groups = {g["id"]: g for g in scenario["service_groups"]}
    assert (groups[30]["open_media"], groups[30]["open"]) == (True, True)
    assert (groups[31]["open_media"], groups[31]["open"]) == (True, False)
    assert groups[32]["open_media"] is False
    assert scenario["tenants"] == [{"id": 3, "enabled": True}, {"id": 4, "enabled": False}]
    assert scenario["agents"] == [
        {"id": 7, "tenant_id": 3, "logon_id": "7007", "service_groups": [30]}
    ]
    assert scenario["authentication"] == {
        "enabled": True,
        "users": [{"logon_id": "admin", "password": "pw", "host_administrator": True}],
    }
    assert scenario["data_expiration_minutes"] == 15


def test_with_changes_validates_the_variant(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, VALID))
    shorter = profile.with_changes(data_expiration_minutes=1)
    assert shorter.data_expiration_minutes == 1 and profile.data_expiration_minutes == 15
    bad_group = dataclasses.replace(profile.groups[0], tenant_id=99)
    with pytest.raises(UsageError, match=r"\[\[groups\]\] #1 tenant_id: tenant 99"):
        profile.with_changes(groups=(bad_group,))
    with pytest.raises(TypeError, match="no field"):
        profile.with_changes(expiration=1)


def test_the_password_is_never_in_a_repr(tmp_path: Path) -> None:
    profile = load_profile(bundled_profile("emulator"))
    shown = repr(dataclasses.replace(profile, source=None))  # its folder's name may be any word
    assert "secret" not in shown and "secret" not in str(profile.auth)  # both passwords hold it
    settings = build_settings(OptionValues(password="hunter22"), {})
    assert "hunter22" not in repr(settings)
    assert "hunter22" not in "\n".join(settings.header_lines())


# -- mistakes --------------------------------------------------------------------------------
def test_unknown_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID.replace('name = "Shut"', 'nmae = "Shut"'))
    assert "[[groups]] #2 nmae: is not a known key; did you mean 'name'?" in message
    assert "(known: id, name, tenant_id, role," in message
    message = refused(tmp_path, VALID.replace("preferred_agent = true", "prefered_agent = true"))
    assert "[[groups]] #1 prefered_agent: is not a known key; did you mean 'preferred_agent'?" in (
        message
    )


def test_unknown_top_level_table_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID + "\n[tenants]\nid = 1\n")
    assert "(top level) tenants: is not a known key; did you mean 'tenant'?" in message


def test_wrong_type_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID.replace("id = 30", 'id = "30"'))
    assert "[[groups]] #1 id: must be an integer, got a string" in message
    message = refused(tmp_path, VALID.replace("enabled = true", 'enabled = "yes"'))
    assert "[auth] enabled: must be true or false, got a string" in message
    message = refused(tmp_path, VALID.replace("groups = [30]", 'groups = ["30"]'))
    assert "[[agents]] #1 groups: must be a list of int" in message
    message = refused(
        tmp_path, VALID.replace("data_expiration_minutes = 15", "data_expiration_minutes = 0")
    )
    assert "data_expiration_minutes: must be at least 1" in message


def test_missing_id_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID.replace("id = 31\n", ""))
    assert "[[groups]] #2 id: is missing; add `id = ...` to [[groups]] #2" in message
    message = refused(tmp_path, VALID.replace("[tenant]\nid = 3\n", "[tenant]\n"))
    assert "[tenant] id: is missing" in message


def test_missing_required_table_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID.replace('[target]\nname = "test system"\n', ""))
    assert "[target]: is missing" in message


def test_role_typo_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID.replace('role = "closed"', 'role = "close"'))
    assert "[[groups]] #2 role: 'close' is not a role; did you mean 'closed'?" in message
    assert "'open', 'closed', 'not-open-media'" in message or "open, closed" in message


def test_group_in_unknown_tenant_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID.replace("tenant_id = 4", "tenant_id = 5"))
    assert "[[groups]] #4 tenant_id: tenant 5 is not declared in [tenant]" in message
    assert "use 3 or declare it as [tenant] disabled_id" in message


def test_agent_in_unknown_group_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID.replace("groups = [30]", "groups = [30, 33]"))
    assert "[[agents]] #1 groups: group 33 is not declared in [[groups]]" in message


def test_duplicate_group_id_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID.replace("id = 31", "id = 30"))
    assert "[[groups]] #2 id: group 30 is declared twice" in message


def test_unknown_control_feature_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID.replace('"agents"]', '"agent"]'))
    assert "[control] features: 'agent' is not a control feature" in message


def test_password_and_password_env_together_are_refused(tmp_path: Path) -> None:
    message = refused(
        tmp_path, VALID.replace('logon_id = "admin"', 'logon_id = "admin"\npassword = "x"')
    )
    assert "[auth] password: both password and password_env are given" in message


def test_broken_toml_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, VALID.replace("[tenant]", "[tenant"))
    assert "not valid TOML" in message and "line" in message


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nothing\.toml: file not found; pass --om-profile"):
        load_profile(tmp_path / "nothing.toml")


# -- settings: command line over environment over profile -----------------------------------
def test_credentials_come_from_option_then_environment_then_profile(tmp_path: Path) -> None:
    path = str(write(tmp_path, VALID))
    env = {"TEST_OM_PASSWORD": "from-profile-env"}
    settings = build_settings(OptionValues(profile=path), env)
    assert (settings.logon_id, settings.password) == ("admin", "from-profile-env")
    env |= {"OPENMEDIA_LOGON_ID": "envuser", "OPENMEDIA_PASSWORD": "from-env"}
    settings = build_settings(OptionValues(profile=path), env)
    assert (settings.logon_id, settings.password) == ("envuser", "from-env")
    settings = build_settings(OptionValues(profile=path, logon_id="cli", password="from-cli"), env)
    assert (settings.logon_id, settings.password) == ("cli", "from-cli")
    assert repr(settings.credentials()) == "Credentials(logon_id='cli', password='***')"


def test_auth_on_without_a_password_is_a_usage_error(tmp_path: Path) -> None:
    path = str(write(tmp_path, VALID))
    with pytest.raises(
        UsageError, match=r"pass --om-password, set OPENMEDIA_PASSWORD, or set \$TEST_OM"
    ):
        build_settings(OptionValues(profile=path), {})


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (OptionValues(target_url="ftp://x/OpenMediaService"), "--target-url 'ftp://x/"),
        (OptionValues(control_url="http://127.0.0.1:9/control"), "--control-url needs"),
        (
            OptionValues(target_url="http://127.0.0.1:9/", emulator_faults=("x",)),
            "--emulator-fault plants a defect",
        ),
        (OptionValues(timeout_s=0), "--exchange-timeout must be positive"),
    ],
)
def test_option_mistakes_are_usage_errors(options: OptionValues, fragment: str) -> None:
    """The message names the option as the command line spells it (``--om-target-url``); the
    fragments name it without the prefix, as the test IDs always have."""
    with pytest.raises(UsageError) as caught:
        build_settings(options, {})
    assert fragment.replace("--", PREFIX, 1) in str(caught.value)


def test_target_url_may_come_from_the_profile(tmp_path: Path) -> None:
    text = VALID.replace(
        'name = "test system"', 'name = "t"\nurl = "http://127.0.0.1:9/OpenMediaService"'
    )
    settings = build_settings(
        OptionValues(profile=str(write(tmp_path, text))), {"TEST_OM_PASSWORD": "p"}
    )
    assert settings.target_url == "http://127.0.0.1:9/OpenMediaService" and not settings.embedded


def test_profile_is_a_frozen_value() -> None:
    profile = load_profile(bundled_profile("emulator"))
    assert isinstance(profile, Profile)
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.data_expiration_minutes = 1  # type: ignore[misc]


def test_the_server_body_limit_is_an_optional_target_key(tmp_path: Path) -> None:
    """``[target] max_request_bytes``: absent by default, an integer of at least 4096 if given."""
    text = bundled_profile("emulator").read_text()
    assert load_profile(bundled_profile("emulator")).target.max_request_bytes is None
    path = tmp_path / "limited.toml"
    path.write_text(text.replace("[target]\n", "[target]\nmax_request_bytes = 65536\n", 1))
    assert load_profile(path).target.max_request_bytes == 65536
    for bad, words in (("100", "at least 4096"), ('"64k"', "must be an integer")):
        path.write_text(text.replace("[target]\n", f"[target]\nmax_request_bytes = {bad}\n", 1))
        with pytest.raises(UsageError, match=f"max_request_bytes.*{words}"):
            load_profile(path)


# -- agentless groups and the clock tolerance (issue 13) ---------------------------------------
def test_an_open_group_may_be_marked_agentless(tmp_path: Path) -> None:
    """``agentless = true`` on an open group: the group says so, the others default to false."""
    text = VALID.replace('role = "open"\npreferred_agent = true', 'role = "open"\nagentless = true')
    profile = load_profile(write(tmp_path, text))
    assert profile.group(30).agentless and not profile.group(40).agentless
    assert profile.group_with("open", agentless=True).id == 30
    with pytest.raises(NotApplicable, match="agentless=True"):
        load_profile(write(tmp_path, VALID)).group_with("open", agentless=True)


@pytest.mark.parametrize("role", ["closed", "not-open-media"])
def test_agentless_is_refused_on_a_group_that_is_not_open(tmp_path: Path, role: str) -> None:
    """Only an open group takes requests: elsewhere the key names the file and line to fix."""
    text = VALID.replace(f'role = "{role}"', f'role = "{role}"\nagentless = true')
    message = refused(tmp_path, text)
    line = text.splitlines().index("agentless = true") + 1
    assert f"{tmp_path / 'profile.toml'}:{line}: [[groups]] #" in message
    assert "agentless: only an open group can be agentless" in message
    assert f"this one is {role!r}" in message and 'role = "open"' in message


def test_agentless_on_a_variant_is_checked_too(tmp_path: Path) -> None:
    """``with_changes`` runs the same cross-check, so no test builds an impossible profile."""
    profile = load_profile(write(tmp_path, VALID))
    closed = dataclasses.replace(profile.group(31), agentless=True)
    with pytest.raises(UsageError, match=r"\[\[groups\]\] #2 agentless"):
        profile.with_changes(groups=(profile.group(30), closed))


def test_the_clock_tolerance_is_an_optional_target_key(tmp_path: Path) -> None:
    """``[target] clock_tolerance_s``: 5 seconds by default, any number of seconds >= 0."""
    assert load_profile(write(tmp_path, VALID)).target.clock_tolerance_s == 5.0
    for given, read in (("0", 0.0), ("2.5", 2.5), ("30", 30.0)):
        text = VALID.replace("[target]\n", f"[target]\nclock_tolerance_s = {given}\n", 1)
        assert load_profile(write(tmp_path, text)).target.clock_tolerance_s == read
    for bad in ("-1", '"5s"', "true"):
        text = VALID.replace("[target]\n", f"[target]\nclock_tolerance_s = {bad}\n", 1)
        message = refused(tmp_path, text)
        assert "[target] clock_tolerance_s: must be a number of seconds" in message

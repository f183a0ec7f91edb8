# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server role's decision for one node: in sync, reload, restart or start, and the canary."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.natsops.jetstream.plugins.filter.plan import nats_plan

KEYS = ["server_name", "version", "gateway", "lame_duck", "jetstream_enabled"]
STATE = {"server_name": "c1-n1", "version": "2.14.6", "gateway": "abc", "lame_duck": "30s/10s",
         "jetstream_enabled": True, "max_memory_store": 268435456, "max_file_store": 2147483648}
SYNC = {"running": True, "binary": True, "link": True, "dirs": True, "config": True, "unit": True, "state": True,
        "tls": True, "tls_mode": True, "config_mode": True, "unit_mode": True}


def plan(applied=None, desired=None, checks=None, active=True, skip=False):
    return nats_plan(STATE if applied is None else applied, dict(STATE, **(desired or {})), KEYS,
                     dict(SYNC, **(checks or {})), active, skip)


def test_a_node_running_what_the_play_deploys_is_in_sync_and_nothing_happens():
    p = plan()
    assert p["in_sync"] is True
    assert p["restart_reasons"] == [] and p["reload_reasons"] == []
    assert not (p["restart_required"] or p["reload_required"] or p["canary_eligible"] or p["defer_links"])


@pytest.mark.parametrize("check", sorted(SYNC))
def test_any_check_out_of_sync_means_the_node_is_not_in_sync(check):
    assert plan(checks={check: False})["in_sync"] is False


def test_a_changed_config_is_a_reload_and_the_node_may_be_the_canary():
    p = plan(checks={"config": False, "state": False})
    assert p["reload_reasons"] == ["configuration"] and p["restart_reasons"] == []
    assert p["reload_required"] and not p["restart_required"] and p["canary_eligible"]


def test_a_new_certificate_is_a_reload():
    p = plan(checks={"tls": False})
    assert p["reload_reasons"] == ["certificates"] and p["reload_required"]


def test_a_setting_nats_server_cannot_reload_is_a_restart_naming_it():
    p = plan(desired={"lame_duck": "45s/10s"}, checks={"config": False, "state": False})
    assert p["restart_reasons"] == ["lame_duck"]
    assert p["restart_required"] and not p["reload_required"] and p["canary_eligible"]


def test_a_restart_wins_over_a_reload_and_lists_every_reason_in_key_order():
    p = plan(desired={"gateway": "def", "version": "2.15.1"}, checks={"config": False, "tls": False})
    assert p["restart_reasons"] == ["version", "gateway"]
    assert p["reload_reasons"] == ["configuration", "certificates"]
    assert p["restart_required"] and not p["reload_required"]


def test_a_new_release_defers_the_stable_links_until_the_nodes_own_restart():
    assert plan(desired={"version": "2.15.1"})["defer_links"] is True
    # Not running, or restarts skipped: the links switch at once.
    assert plan(desired={"version": "2.15.1"}, active=False)["defer_links"] is False
    assert plan(desired={"version": "2.15.1"}, skip=True)["defer_links"] is False


def test_a_lower_jetstream_limit_restarts_a_higher_one_reloads():
    down = plan(desired={"max_file_store": 1073741824}, checks={"config": False})
    assert down["restart_reasons"] == ["max_file_store decreased"]
    up = plan(desired={"max_memory_store": 536870912}, checks={"config": False})
    assert up["restart_reasons"] == [] and up["reload_required"]


def test_a_changed_unit_restarts():
    p = plan(checks={"unit": False})
    assert p["restart_reasons"] == ["systemd unit"] and p["restart_required"]


def test_owner_or_mode_drift_alone_is_neither_a_reload_nor_a_restart():
    p = plan(checks={"config_mode": False, "unit_mode": False, "tls_mode": False, "dirs": False})
    assert p["in_sync"] is False
    assert not (p["restart_required"] or p["reload_required"] or p["canary_eligible"])


def test_a_node_that_is_not_running_is_started_never_reloaded_restarted_or_the_canary():
    p = plan(applied={}, checks={"running": False, "config": False, "unit": False, "state": False}, active=False)
    assert p["restart_reasons"]  # everything differs from an empty state ...
    assert not (p["restart_required"] or p["reload_required"] or p["canary_eligible"])  # ... but it is started


def test_with_restarts_skipped_a_restart_is_not_a_canary_but_a_reload_still_is():
    assert plan(desired={"lame_duck": "45s/10s"}, skip=True)["canary_eligible"] is False
    assert plan(checks={"config": False}, skip=True)["canary_eligible"] is True


def test_values_compare_as_text_the_way_the_state_file_stores_them():
    # The state file is JSON (true, numbers); the play's templated values may be strings.
    p = plan(applied=dict(STATE, jetstream_enabled=True), desired={"jetstream_enabled": "True"})
    assert p["restart_reasons"] == []
    assert plan(desired={"jetstream_enabled": False})["restart_reasons"] == ["jetstream_enabled"]


def test_flags_given_as_text_are_read_as_booleans():
    p = nats_plan(STATE, STATE, KEYS, dict(SYNC, config="False", running="True"), "True", "false")
    assert p["in_sync"] is False and p["reload_required"] and p["canary_eligible"]


def test_a_desired_state_without_a_restart_key_is_a_programming_error():
    with pytest.raises(AnsibleFilterError, match="has no version"):
        nats_plan(STATE, {"server_name": "x"}, ["server_name", "version"], SYNC, True)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The shell every JetStream module runs in: its AnsibleModule (connection options included), one connected
client, and one way of turning what went wrong into ``fail_json``."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    JETSTREAM_MUTUALLY_EXCLUSIVE, JETSTREAM_REQUIRED_TOGETHER, JetStreamAPIError, JetStreamClient,
    jetstream_argument_spec)
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import ValidationError


def jetstream_module(argument_spec, mutually_exclusive=(), **kwargs):
    """The AnsibleModule of a JetStream module: its own options plus the connection options (documented in the
    connection doc fragment), their exclusions and requirements, check mode supported."""
    spec = jetstream_argument_spec()
    spec.update(argument_spec)
    return AnsibleModule(argument_spec=spec, supports_check_mode=True,
                         mutually_exclusive=JETSTREAM_MUTUALLY_EXCLUSIVE + list(mutually_exclusive),
                         required_together=JETSTREAM_REQUIRED_TOGETHER, **kwargs)


def run_module(module, body, failure, prepare=None, context=None, errors=()):
    """Run a JetStream module and exit with the return values ``body`` gives.

    ``prepare(module)`` runs first, before anything is connected (the checks that need no server); its value is
    passed on. Then ``body(module, client, prepared)`` runs over a connected client (closed afterwards, however it
    ends) and returns the module's return values. What it raises becomes ``fail_json`` the same way in every module:

    * ``ValidationError`` (from ``prepare`` or ``body``): its message as it is;
    * ``JetStreamAPIError``: ``"<failure>: <error>"`` with the API's ``err_code`` and ``code``;
    * one of ``errors`` (for example ``SnapshotError``): ``"<failure>: <error>"``.

    ``failure`` is the start of those messages, or a function of the prepared value that returns it. ``context()``
    gives return values every failure after connecting carries as well (what the module did so far)."""
    try:
        prepared = prepare(module) if prepare is not None else None
    except ValidationError as exc:
        module.fail_json(msg=str(exc))
    if callable(failure):
        failure = failure(prepared)
    extra = context or dict
    client = JetStreamClient(module)
    client.connect()
    try:
        out = body(module, client, prepared)
    except ValidationError as exc:
        module.fail_json(msg=str(exc), **extra())
    except JetStreamAPIError as exc:
        values = dict(err_code=exc.err_code, code=exc.code)
        values.update(extra())
        module.fail_json(msg='%s: %s' % (failure, exc), **values)
    except errors as exc:
        module.fail_json(msg='%s: %s' % (failure, exc), **extra())
    finally:
        client.close()
    module.exit_json(**out)


def module_result(module, res, **extra):
    """The return values every single-resource module shares, from a Result."""
    out = dict(changed=res.changed, operation=res.action, changes=res.changes, **extra)
    if module._diff:
        out['diff'] = {'before': res.before, 'after': res.after}
    if module.params['state'] == 'present':
        out['config'] = res.after
    for warning in res.warnings:
        module.warn(warning)
    return out


def ensure_resource(module, resource, desired, **kwargs):
    """``resource.ensure`` with the module's state, recreate and check mode: (Result, return values, the
    resource's info after the run: None when it is absent, or in check mode when nothing was read)."""
    p = module.params
    res = resource.ensure(desired, state=p['state'], recreate=p['recreate'], check_mode=module.check_mode, **kwargs)
    info = None
    if p['state'] == 'present':
        info = res.info if res.info is not None else (None if module.check_mode else resource.info(refresh=True))
    return res, module_result(module, res), info

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The shell the operator_jwt, account_jwt and user_jwt modules run in (as ``_module.run_module`` is for the
JetStream modules): the options they share, the subject's and the issuer's keys, the signing decision
(``_nkeys_jwt.ensure_jwt``) and one way of turning what went wrong into ``fail_json``."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from collections import namedtuple

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt

# The keys a module's claims are built from: the subject's public key (and its KeyPair when a seed was given,
# None for public_key), and the signer's public key and KeyPair (the subject's own for a self-signed JWT).
Keys = namedtuple('Keys', ['subject', 'subject_kp', 'issuer', 'issuer_kp'])


def jwt_argument_spec(argument_spec, issuer=False):
    """The options every JWT module has (``path`` required, ``name``, ``tags``, the subject's ``seed_file`` and
    ``seed``), with ``public_key`` and the issuer's ``issuer_seed_file`` and ``issuer_seed`` when the JWT is
    signed by another key; then the module's own options (which may redefine a shared one)."""
    spec = dict(path=dict(type='path', required=True), name=dict(type='str', required=True),
                tags=dict(type='list', elements='str'))
    spec.update(_nkeys_jwt.seed_options(''))
    if issuer:
        spec['public_key'] = dict(type='str', no_log=False)
        spec.update(_nkeys_jwt.seed_options('issuer_'))
    spec.update(argument_spec)
    return spec


def _keys(params, kind, issuer_kind):
    """The subject's and the issuer's keys from the options; bad keys raise JwtError naming the option."""
    if params.get('public_key'):
        subject_kp = None
        subject = _nkeys_jwt.check_public_key(params['public_key'], 'public_key', kind)
    else:
        subject_kp = _nkeys_jwt.keypair_from_params(params, '', kind)
        subject = _nkeys_jwt.public_key(subject_kp)
    issuer_kp = _nkeys_jwt.keypair_from_params(params, 'issuer_', issuer_kind) if issuer_kind else subject_kp
    return Keys(subject, subject_kp, _nkeys_jwt.public_key(issuer_kp), issuer_kp)


def run_jwt_module(kind, argument_spec, claims, issuer_kind=None, prepare=None, mutually_exclusive=(),
                   required_one_of=()):
    """Run a JWT module and exit with what ``_nkeys_jwt.ensure_jwt`` returns.

    ``kind`` is the subject's kind (V(operator), V(account), V(user)); ``issuer_kind`` the signer's, None for a
    JWT the subject signs itself (the operator's). The subject is given as one of ``public_key``, ``seed``,
    ``seed_file`` (only the seeds without an issuer), the issuer as one of ``issuer_seed``, ``issuer_seed_file``.

    ``prepare(params)`` runs first (checks of the options alone), then the keys are read, then
    ``claims(params, keys)`` returns ``(desired claims, keyword arguments of ensure_jwt)``. A ``JwtError`` or an
    I/O error from any of them fails the module with ``"<kind> <name>: <error>"``; nothing is signed or written
    before ``ensure_jwt``."""
    issuer = issuer_kind is not None
    subject_options = ('public_key', 'seed', 'seed_file') if issuer else ('seed', 'seed_file')
    exclusive = [subject_options] + ([('issuer_seed', 'issuer_seed_file')] if issuer else [])
    module = AnsibleModule(argument_spec=jwt_argument_spec(argument_spec, issuer=issuer), supports_check_mode=True,
                           mutually_exclusive=exclusive + list(mutually_exclusive),
                           required_one_of=exclusive + list(required_one_of))
    if not _nkeys_jwt.HAS_NKEYS:
        module.fail_json(msg=missing_required_lib(_nkeys_jwt.NKEYS_REQUIREMENT), exception=_nkeys_jwt.NKEYS_IMPORT_ERROR)
    p = module.params
    try:
        if prepare is not None:
            prepare(p)
        keys = _keys(p, kind, issuer_kind)
        desired, ensure = claims(p, keys)
        result = _nkeys_jwt.ensure_jwt(module, kind, desired, keys.issuer_kp, p['path'], **ensure)
    except (_nkeys_jwt.JwtError, IOError, OSError) as exc:
        module.fail_json(msg='%s %s: %s' % (kind, p['name'], exc))
    module.exit_json(**result)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # What the operator_jwt, account_jwt and user_jwt modules share (module_utils/_jwt_module.py).
    DOCUMENTATION = r'''
requirements:
  - nkeys >= 0.2.0 (the NATS maintainers' Python nkeys, with PyNaCl)
options:
  tags:
    description: Tags (stored lower case).
    type: list
    elements: str
attributes:
  check_mode:
    description: Decides and returns the claims and changes; signs and writes nothing.
    support: full
  diff_mode:
    description: The decoded claims before and after (without C(iat) and C(jti)); never a seed.
    support: full
  idempotent:
    description: A second run with the same options reports no change and does not sign again.
    support: full
'''

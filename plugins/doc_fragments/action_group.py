# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # Every JetStream module is in the collection's action group.
    DOCUMENTATION = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/natsops.jetstream.jetstream) in C(module_defaults) to set the connection once.
    support: full
    membership: [natsops.jetstream.jetstream]
'''

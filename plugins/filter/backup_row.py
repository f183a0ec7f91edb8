# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: backup_row
short_description: One line of the backup playbook's summary table
version_added: 0.1.0
description: Formats a (manifest, result) pair of M(natsops.jetstream.stream_backup) as a table row.
options:
  _input:
    description: A list of the manifest and the module result.
    type: list
    required: true
"""

EXAMPLES = r"""
- name: Row
  ansible.builtin.debug:
    msg: "{{ [result.manifest, result] | natsops.jetstream.backup_row }}"
"""

RETURN = r"""
_value:
  description: The row.
  type: str
"""


def backup_row(pair):
    manifest, result = pair[0] or {}, pair[1] or {}
    name = manifest.get('stream') or (result.get('item') or {}).get('name', '?')
    return '%-28s %10s %12s %8s' % (name, manifest.get('messages', result.get('messages', '-')),
                                    manifest.get('bytes', result.get('bytes', '-')), result.get('mb_per_s', '-'))


class FilterModule(object):
    def filters(self):
        return {'backup_row': backup_row}

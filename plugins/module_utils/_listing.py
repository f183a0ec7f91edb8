# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""What a run of several resources (the apply module) read of the server once, instead of a request per
resource: every stream, and the consumers of the streams it names. The resources read it instead of the
server and keep it current with every change they make, or plan in check mode, so a later resource of the
same run sees the state the earlier ones leave."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy


class Listing(object):
    """``streams``: stream name -> stream info; ``consumers``: stream name -> {consumer name: consumer info},
    for the streams whose consumers were listed (and those created in the run)."""

    def __init__(self, streams=None, consumers=None):
        self.streams = dict(streams or {})
        self.consumers = dict(consumers or {})

    @classmethod
    def load(cls, client, streams_with_consumers=()):
        """Every stream, and the consumers of those of ``streams_with_consumers`` that exist."""
        listing = cls(dict((s['config']['name'], s) for s in client.streams()))
        for stream in sorted(streams_with_consumers):
            if stream in listing.streams:
                listing.consumers[stream] = dict((c['name'], c) for c in client.consumers(stream))
        return listing

    def copy(self):
        return Listing(copy.deepcopy(self.streams), copy.deepcopy(self.consumers))

    # -- streams ---------------------------------------------------------------------------------
    def stream(self, name):
        """The info of stream ``name``, None when there is none."""
        return self.streams.get(name)

    def stream_configs(self):
        return [(info or {}).get('config') or {} for info in self.streams.values()]

    def put_stream(self, name, info, consumers_gone=False):
        """Stream ``name`` now has ``info``; ``consumers_gone`` when it was (re)created without consumers."""
        self.streams[name] = info
        if consumers_gone or name not in self.consumers:
            self.consumers[name] = {}

    def drop_stream(self, name):
        self.streams.pop(name, None)
        self.consumers.pop(name, None)

    # -- consumers -------------------------------------------------------------------------------
    def knows_consumers(self, stream):
        """True when the consumers of ``stream`` are listed here (so a missing one does not exist)."""
        return stream in self.consumers

    def consumer(self, stream, name):
        return (self.consumers.get(stream) or {}).get(name)

    def consumer_names(self, stream):
        return sorted(self.consumers.get(stream) or {})

    def put_consumer(self, stream, name, info):
        """Consumer ``name`` of ``stream`` now has ``info`` (None: it was deleted)."""
        consumers = self.consumers.setdefault(stream, {})
        if info is None:
            consumers.pop(name, None)
        else:
            consumers[name] = info

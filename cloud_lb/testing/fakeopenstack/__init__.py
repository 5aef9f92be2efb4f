"""A fake OpenStack cloud (Keystone, Octavia, Neutron, Nova, Barbican) over real HTTP.

Used by the OpenStack provider's tests and by `cloud-lb demo --provider openstack` /
`cloud-lb fake-openstack`. openstacksdk talks to it unchanged: it discovers the services
from the Keystone catalog and the version documents, and gets the real APIs' answers,
asynchronous provisioning and error bodies. See `server.FakeOpenStack` for the admin
helpers tests use to arrange a scene.
"""

from cloud_lb.testing.fakeopenstack.faults import Call, CallLog, Fault
from cloud_lb.testing.fakeopenstack.server import OVH_FLAVORS, FakeOpenStack

__all__ = ["OVH_FLAVORS", "Call", "CallLog", "FakeOpenStack", "Fault"]

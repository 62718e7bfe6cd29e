"""The client's endpoints, one module per group of the API reference; each group is a mixin
over `Upstream` (upstream.py), and `PerkvilleClient` (client.py) is all of them."""

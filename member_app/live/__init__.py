"""Live updates: a member's points, level and challenge progress change on the page they are
watching, without a reload.

One poller per deployment asks Perkville which balances moved (poller.py, with the staff
token; members.py polls each watcher with their own token when there is none), the hub hands
each change to the streams of that member (hub.py, across replicas through Redis pub/sub in
bus.py), and each open page holds one Server-Sent Events stream (stream.py). service.py puts
them together for the app's lifespan.
"""

"""Several machines: the nodes of a cluster on NATS JetStream (docs/cluster.md).

Cluster mode replaces the single node's ingest log with a replicated stream
and leaves every other layer as it is: the shard files, their folds and the
reads are the same code. What this package adds is who folds which shard
(leases), where the files come from when a shard moves (snapshots), and how
a read reaches the node that holds a shard (fan-out).
"""

/* cluster_queues.h — GET /cluster/queues' aggregation, pure (no I/O):
 * each node's GET /queues, as it wrote it to the cluster database, merged
 * into one view of each queue across the cluster (docs/cluster.md). */
#ifndef ADMIN_CLUSTER_QUEUES_H
#define ADMIN_CLUSTER_QUEUES_H

#include <jansson.h>

/* PER_NODE: [{"node": NAME, "queues": [GET /queues' queue objects]}, ...].
 * Returns a new array with one object per queue name (in the order first
 * met): waiting, answered, answered_in_sla, abandoned, timeouts, exits and
 * refused summed over the nodes; longest_wait their maximum;
 * service_level (percent answered within sla of the callers that left)
 * and average_wait (weighted by answered) recomputed from the sums;
 * `nodes`: each node's own figures; `agents` merged by number: the state
 * is the most engaged any node reports (busy, ringing, paused,
 * logged_out, wrapup, available: an agent busy on any node is busy), calls
 * summed, last_call_end the latest, `states` each node's. Entries of the
 * wrong shape are passed over. */
json_t *admin_cluster_queues_merge(const json_t *per_node);

#endif

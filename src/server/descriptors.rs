//! The descriptor budget (SPEC §4). Every connection, event stream, database connection and outbound
//! request takes a file descriptor; when they run out, `accept` fails and nobody — `/healthz` included
//! — gets an answer. So the server raises its soft limit to the hard one at start and caps client
//! connections below it, keeping a reserve for its own descriptors (database, outbound requests, logs,
//! the 503s it writes to connections over a cap), and caps event streams below that, so streams can
//! never take the connections the API and the probes need.

/// What the descriptor limit allows, as the server runs with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The process's descriptor limit after raising it.
    pub descriptors: u64,
    /// Open client connections, overall (`connections.max`, 0: derived).
    pub connections: usize,
    /// Open event streams, overall (`streams.max`, 0: derived).
    pub streams: usize,
    /// 503s over a cap that may linger to be read (see `server::refuse`).
    pub lingering: usize,
}

/// Raises the soft descriptor limit to the hard one; the limit in force afterwards.
pub fn raise_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "the descriptor limit could not be raised");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    }
}

impl Budget {
    /// The caps for `descriptors`: configured ones (non-zero) are kept unless they exceed what the
    /// limit allows; derived ones are all but the reserve for connections (an eighth, at least 64) and
    /// half of those for streams.
    pub fn new(descriptors: u64, connections_max: usize, streams_max: usize) -> Self {
        let descriptors_usize = usize::try_from(descriptors).unwrap_or(usize::MAX);
        let reserve = (descriptors_usize / 8).max(64);
        let room = descriptors_usize.saturating_sub(reserve).max(16);
        let pick = |configured: usize, derived: usize, room: usize| match configured {
            0 => derived,
            n => n.min(room),
        };
        let connections = pick(connections_max, room, room);
        let streams = pick(streams_max, connections / 2, connections);
        Budget { descriptors, connections, streams, lingering: (reserve / 4).max(8) }
    }

    /// Raises the limit and derives the caps from it; says what it decided.
    pub fn at_start(connections_max: usize, streams_max: usize) -> Self {
        let budget = Self::new(raise_limit(), connections_max, streams_max);
        if (connections_max != 0 && budget.connections < connections_max)
            || (streams_max != 0 && budget.streams < streams_max)
        {
            tracing::warn!(descriptors = budget.descriptors, "a configured cap exceeds the descriptor limit");
        }
        tracing::info!(
            descriptors = budget.descriptors,
            connections = budget.connections,
            streams = budget.streams,
            "connection and stream caps"
        );
        budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_stay_below_the_limit_with_a_reserve() {
        let b = Budget::new(1024, 0, 0);
        assert_eq!((b.connections, b.streams), (896, 448));
        let b = Budget::new(1_048_576, 0, 0);
        assert_eq!((b.connections, b.streams), (917_504, 458_752));
        assert_eq!(Budget::new(1024, 5000, 9000).connections, 896, "clamped to the limit");
        assert_eq!(Budget::new(1024, 500, 9000).streams, 500, "streams never exceed connections");
        assert_eq!(Budget::new(1024, 0, 100).streams, 100);
        assert!(Budget::new(10, 0, 0).connections > 0);
    }
}

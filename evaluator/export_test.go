package evaluator

// SetSeriesPerShard makes range queries cut their input into shards of n
// series, for tests of sharding on small inputs; restore undoes it.
func SetSeriesPerShard(n int) (restore func()) {
	old := seriesPerShard
	seriesPerShard = n
	return func() { seriesPerShard = old }
}

// ShardedQueries is the number of rule expressions the session serves
// from range queries cut into more than one shard.
func (s *Session) ShardedQueries() int {
	if s.cache == nil {
		return 0
	}
	n := 0
	for _, e := range s.cache.entries {
		if len(e.stores) > 1 {
			n++
		}
	}
	return n
}

// EmptyQueries is the number of rule expressions the session answers with
// nothing, without a query: their selectors match no input series.
func (s *Session) EmptyQueries() int {
	if s.cache == nil {
		return 0
	}
	n := 0
	for _, e := range s.cache.entries {
		if e.empty {
			n++
		}
	}
	return n
}

// StorageOpened reports whether the session opened its main storage.
func (s *Session) StorageOpened() bool { return s.db != nil }

// CopyExpr is copyExpr, for tests of the range engine's parser.
var CopyExpr = copyExpr

// RunsAnswered is the number of instant queries the session answered on
// runs of steps, without the engine (queryRuns).
func (s *Session) RunsAnswered() int { return s.runsAnswered }

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

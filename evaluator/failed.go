package evaluator

import (
	"context"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
)

// failedStorage is a main storage that could not be opened: every read and
// write fails with why.
type failedStorage struct{ err error }

func (f failedStorage) Querier(int64, int64) (storage.Querier, error) { return nil, f.err }

func (f failedStorage) ChunkQuerier(int64, int64) (storage.ChunkQuerier, error) {
	return nil, f.err
}

func (f failedStorage) Appender(context.Context) storage.Appender { return failedAppender(f) }

func (f failedStorage) AppenderV2(context.Context) storage.AppenderV2 { return failedAppenderV2(f) }

func (f failedStorage) StartTime() (int64, error) { return 0, f.err }

func (f failedStorage) Close() error { return nil }

// failedAppender is an appender of a main storage that could not be opened.
type failedAppender struct{ err error }

func (f failedAppender) Append(storage.SeriesRef, labels.Labels, int64, float64) (storage.SeriesRef, error) {
	return 0, f.err
}

func (f failedAppender) Commit() error { return f.err }

func (f failedAppender) Rollback() error { return nil }

func (f failedAppender) SetOptions(*storage.AppendOptions) {}

func (f failedAppender) AppendExemplar(storage.SeriesRef, labels.Labels, exemplar.Exemplar) (storage.SeriesRef, error) {
	return 0, f.err
}

func (f failedAppender) AppendHistogram(storage.SeriesRef, labels.Labels, int64, *histogram.Histogram, *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return 0, f.err
}

func (f failedAppender) AppendHistogramSTZeroSample(storage.SeriesRef, labels.Labels, int64, int64, *histogram.Histogram, *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return 0, f.err
}

func (f failedAppender) UpdateMetadata(storage.SeriesRef, labels.Labels, metadata.Metadata) (storage.SeriesRef, error) {
	return 0, f.err
}

func (f failedAppender) AppendSTZeroSample(storage.SeriesRef, labels.Labels, int64, int64) (storage.SeriesRef, error) {
	return 0, f.err
}

// failedAppenderV2 is failedAppender for the second appender interface.
type failedAppenderV2 struct{ err error }

func (f failedAppenderV2) Append(storage.SeriesRef, labels.Labels, int64, int64, float64, *histogram.Histogram, *histogram.FloatHistogram, storage.AppendV2Options) (storage.SeriesRef, error) {
	return 0, f.err
}

func (f failedAppenderV2) Commit() error { return f.err }

func (f failedAppenderV2) Rollback() error { return nil }

var (
	_ storage.Storage  = failedStorage{}
	_ storage.Appender = failedAppender{}
)

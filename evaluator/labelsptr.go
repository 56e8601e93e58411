//go:build !slicelabels && !dedupelabels

package evaluator

import (
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// labelsID identifies the memory a label set is stored in: two label sets
// with the same ID are equal, for as long as one of them is kept alive. With
// Prometheus' default (string) labels, a label set is one string.
func labelsID(lset labels.Labels) unsafe.Pointer {
	return unsafe.Pointer(unsafe.StringData(*(*string)(unsafe.Pointer(&lset))))
}

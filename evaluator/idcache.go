package evaluator

import (
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// idCache finds a value from the memory a label set is stored in, without
// hashing or comparing the labels: where the same label sets come back at
// every step (a rule's results, its ALERTS series), that is much cheaper
// than a map keyed by their hash. It is direct-mapped: a slot holds the
// last label set that fell in it, and a miss only costs the caller's
// slower lookup. With label implementations other than Prometheus' default
// string labels, it never hits.
type idCache[T any] struct {
	slots []idSlotEntry[T]
	shift uint
}

type idSlotEntry[T any] struct {
	id   unsafe.Pointer
	lset labels.Labels // keeps the memory id points to alive
	v    T
}

// newIDCache makes a cache of 2^bits slots.
func newIDCache[T any](bits uint) *idCache[T] {
	return &idCache[T]{slots: make([]idSlotEntry[T], 1<<bits), shift: 64 - bits}
}

// slot spreads pointers, which allocation lays out at regular strides,
// over the slots (Fibonacci hashing).
func (c *idCache[T]) slot(id unsafe.Pointer) *idSlotEntry[T] {
	return &c.slots[(uint64(uintptr(id))*0x9E3779B97F4A7C15)>>c.shift]
}

// get returns the value stored for the memory lset is in. A nil cache
// holds nothing.
func (c *idCache[T]) get(lset labels.Labels) (T, bool) {
	if c == nil {
		var zero T
		return zero, false
	}
	if id := labelsID(lset); id != nil {
		if e := c.slot(id); e.id == id {
			return e.v, true
		}
	}
	var zero T
	return zero, false
}

// put stores v for the memory lset is in.
func (c *idCache[T]) put(lset labels.Labels, v T) {
	if c == nil {
		return
	}
	if id := labelsID(lset); id != nil {
		*c.slot(id) = idSlotEntry[T]{id: id, lset: lset, v: v}
	}
}

// labelsMap maps label sets to values by their hash, label sets that share
// a hash chained and told apart by their labels.
type labelsMap[T any] map[uint64][]labelsEntry[T]

type labelsEntry[T any] struct {
	lset labels.Labels
	v    T
}

// get returns the value of lset, whose hash is h.
func (m labelsMap[T]) get(h uint64, lset labels.Labels) (T, bool) {
	for _, e := range m[h] {
		if labels.Equal(e.lset, lset) {
			return e.v, true
		}
	}
	var zero T
	return zero, false
}

// set gives lset, whose hash is h, the value v.
func (m labelsMap[T]) set(h uint64, lset labels.Labels, v T) {
	for i, e := range m[h] {
		if labels.Equal(e.lset, lset) {
			m[h][i].v = v
			return
		}
	}
	m[h] = append(m[h], labelsEntry[T]{lset, v})
}

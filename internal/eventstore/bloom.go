package eventstore

import (
	"math"

	"github.com/cespare/xxhash/v2"
)

// bloom is a Bloom filter over 64-bit hashes with k probes derived by
// double hashing. Its hashes are stable across processes (xxhash), so it
// can be persisted in a part's index.
type bloom struct {
	Bits []uint64
	K    uint8
}

// newBloom sizes a filter for n distinct keys at about 1% false positives.
func newBloom(n int) *bloom {
	if n < 1 {
		n = 1
	}
	m := uint64(math.Ceil(float64(n) * 9.6)) // bits per key for 1%
	words := (m + 63) / 64
	return &bloom{Bits: make([]uint64, words), K: 7}
}

func (b *bloom) add(h uint64) {
	m := uint64(len(b.Bits)) * 64
	h1, h2 := h, h>>32|h<<32
	for i := uint64(0); i < uint64(b.K); i++ {
		bit := (h1 + i*h2) % m
		b.Bits[bit/64] |= 1 << (bit % 64)
	}
}

func (b *bloom) has(h uint64) bool {
	if b == nil || len(b.Bits) == 0 {
		return true
	}
	m := uint64(len(b.Bits)) * 64
	h1, h2 := h, h>>32|h<<32
	for i := uint64(0); i < uint64(b.K); i++ {
		bit := (h1 + i*h2) % m
		if b.Bits[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

// Keys of the three kinds a part indexes, each in its own hash domain.
func tokenHash(tok string) uint64 { return xxhash.Sum64String(tok) }

func attrHash(key, value string) uint64 {
	d := xxhash.New()
	_, _ = d.WriteString("\x01")
	_, _ = d.WriteString(key)
	_, _ = d.WriteString("\x00")
	_, _ = d.WriteString(value)
	return d.Sum64()
}

func traceHash(id [16]byte) uint64 {
	d := xxhash.New()
	_, _ = d.WriteString("\x02")
	_, _ = d.Write(id[:])
	return d.Sum64()
}

package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/miradorhq/mirador/internal/eventstore/wal"
)

// manifestName is the file that lists the registered parts. It is replaced
// atomically (temporary file, fsync, rename, directory fsync), so after a
// crash it names exactly the parts whose files were complete.
const manifestName = "MANIFEST.json"

// manifest is the durable state of the store besides the WAL.
type manifest struct {
	Version int            `json:"version"`
	NextSeq uint64         `json:"nextSeq"` // sequence of the next part
	Parts   []manifestPart `json:"parts"`
	// Flushed is, per dataset key, the last WAL position whose records are
	// in parts; replay skips older batches of that key.
	Flushed map[string]wal.Position `json:"flushed"`
	// Tombstones hide records, per dataset key and group.
	Tombstones map[string]map[string][]tombstone `json:"tombstones,omitempty"`
}

type manifestPart struct {
	ID      string `json:"id"`
	Tenant  string `json:"tenant"`
	Dataset string `json:"dataset"`
	Seq     uint64 `json:"seq"`
	Rows    int64  `json:"rows"`
	Size    int64  `json:"size"`
	MinTime int64  `json:"minTime"`
	MaxTime int64  `json:"maxTime"`
	Level   int    `json:"level"` // 0 when flushed, +1 per compaction
}

// tombstone hides a group's records with Time < Before that are in parts
// of sequence < PartSeq or in WAL batches at or before WALPos. Retention
// tombstones cover everything (PartSeq and WALPos at their maximum);
// deletion tombstones cover only what existed when the group was deleted.
type tombstone struct {
	Before  int64        `json:"before"`
	PartSeq uint64       `json:"partSeq"`
	WALPos  wal.Position `json:"walPos"`
}

var everything = wal.Position{Segment: math.MaxInt, Offset: math.MaxInt64}

func (t tombstone) hidesPart(seq uint64, time int64) bool { return time < t.Before && seq < t.PartSeq }

func (t tombstone) hidesReplayed(pos wal.Position, time int64) bool {
	return time < t.Before && !t.WALPos.Less(pos)
}

func datasetKey(tenant, dataset string) string { return tenant + "/" + dataset }

func readManifest(dir string) (manifest, error) {
	m := manifest{Version: 1, NextSeq: 1, Flushed: map[string]wal.Position{}, Tombstones: map[string]map[string][]tombstone{}}
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("read manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("read manifest %s: %w", filepath.Join(dir, manifestName), err)
	}
	if m.Flushed == nil {
		m.Flushed = map[string]wal.Position{}
	}
	if m.Tombstones == nil {
		m.Tombstones = map[string]map[string][]tombstone{}
	}
	return m, nil
}

func writeManifest(dir string, m *manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return writeFileSync(filepath.Join(dir, manifestName), b)
}

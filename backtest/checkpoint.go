package backtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gotk-rules/gotk-rules/internal/boundedio"
)

// A --resume file holds the shards done and their results, written again
// (atomically: a temporary file renamed over it) after each shard. A rerun
// with the same file skips them. The file names the backtest it belongs to
// by a fingerprint of what decides the results: the server's URL, the
// headers (Authorization apart: a tenant is another history), the times,
// step and shards, the dedup and replica labels, --allow-partial, and the
// rules as loaded. A file of another backtest is refused.

const checkpointVersion = 1

// checkpoint is the --resume file.
type checkpoint struct {
	Version     int            `json:"version"`
	Fingerprint string         `json:"fingerprint"`
	Shards      int            `json:"shards"`
	Done        []*shardResult `json:"done"`
}

// fingerprint names the backtest (see above).
func (b *Backtest) fingerprint() string {
	h := sha256.New()
	w := func(parts ...string) {
		for _, p := range parts {
			fmt.Fprintf(h, "%d:%s;", len(p), p)
		}
	}
	c := b.opts.Client
	w("gotk-rules backtest", fmt.Sprint(checkpointVersion), c.URL())
	names := make([]string, 0, len(c.opts.Headers))
	for k := range c.opts.Headers {
		if k != "Authorization" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		w("header", k, strings.Join(c.opts.Headers[k], "\x00"))
	}
	w("dedup", c.opts.Dedup, "replica", strings.Join(c.opts.ReplicaLabels, "\x00"))
	w("from", rfc(b.From()), "to", rfc(b.To()), "step", b.g.step.String(), "partial", fmt.Sprint(b.opts.AllowPartial))
	for _, sh := range b.shards {
		w("shard", fmt.Sprint(sh.warm, sh.lo, sh.hi))
	}
	for _, grp := range b.sess.Groups() {
		w("group", grp.Name())
		for _, r := range grp.Rules() {
			w("rule", r.String())
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// loadCheckpoint reads the --resume file, when there is one: the shards
// done. A file of another backtest, or not a checkpoint, is an *InputError.
func (b *Backtest) loadCheckpoint(path string) (map[int]*shardResult, error) {
	done := map[int]*shardResult{}
	data, err := boundedio.ReadFile(path, b.opts.Loader.Input)
	if errors.Is(err, fs.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, &InputError{fmt.Errorf("--resume: %w", err)}
	}
	var ck checkpoint
	if err := json.Unmarshal(data, &ck); err != nil || ck.Version == 0 {
		return nil, &InputError{fmt.Errorf("--resume %s: not a backtest checkpoint (give a new file, or remove this one)", path)}
	}
	if ck.Version != checkpointVersion || ck.Fingerprint != b.fp || ck.Shards != len(b.shards) {
		return nil, &InputError{fmt.Errorf("--resume %s: the checkpoint is of another backtest (the URL, headers, times, step, --shards, dedup, replica labels, --allow-partial or rules differ): rerun with the same ones, or remove the file to start over", path)}
	}
	for _, r := range ck.Done {
		if r == nil || r.Index < 0 || r.Index >= len(b.shards) || done[r.Index] != nil {
			return nil, &InputError{fmt.Errorf("--resume %s: a shard is out of range or twice: the file was edited; remove it to start over", path)}
		}
		done[r.Index] = r
	}
	return done, nil
}

// writeCheckpoint writes the shards done to path, atomically.
func (b *Backtest) writeCheckpoint(path string, done map[int]*shardResult) error {
	ck := checkpoint{Version: checkpointVersion, Fingerprint: b.fp, Shards: len(b.shards), Done: make([]*shardResult, 0, len(done))}
	for _, r := range done {
		ck.Done = append(ck.Done, r)
	}
	slices.SortFunc(ck.Done, func(a, c *shardResult) int { return a.Index - c.Index })
	data, err := json.Marshal(ck)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("--resume: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("--resume: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	return nil
}

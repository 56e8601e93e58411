package unittest

import (
	"strings"
	"sync"
	"time"
)

// ruleTable is the rules of a list of rule files by name, with their
// expressions parsed, as the warning checks read them.
type ruleTable struct {
	alerts  map[string][]ruleInfo
	records map[string][]ruleInfo
	// ok is false when a file could not be loaded or an expression not
	// parsed: the groups report it, and get no warnings.
	ok bool
}

// ruleTables builds each list's ruleTable once per run: every test group
// of a file, and of the files sharing its rule files, reads the same one.
// A large suite's groups would otherwise each parse every rule again.
type ruleTables struct {
	mu     sync.Mutex
	tables map[string]*ruleTableEntry
}

type ruleTableEntry struct {
	once  sync.Once
	table ruleTable
}

// ruleTable returns the rules of files, loaded (from the loader's cache:
// the group has loaded them) and parsed once per list of files.
func (r *Runner) ruleTable(files []string) ruleTable {
	key := strings.Join(files, "\x00")
	r.tables.mu.Lock()
	if r.tables.tables == nil {
		r.tables.tables = map[string]*ruleTableEntry{}
	}
	e, ok := r.tables.tables[key]
	if !ok {
		e = &ruleTableEntry{}
		r.tables.tables[key] = e
	}
	r.tables.mu.Unlock()
	e.once.Do(func() { e.table = r.buildRuleTable(files) })
	return e.table
}

func (r *Runner) buildRuleTable(files []string) ruleTable {
	t := ruleTable{alerts: map[string][]ruleInfo{}, records: map[string][]ruleInfo{}}
	for _, path := range files {
		f, err := r.loader.LoadFile(path)
		if err != nil {
			return ruleTable{}
		}
		for _, g := range f.Groups {
			for _, rl := range g.RuleGroup.Rules {
				e, err := r.instant.Parse(rl.Expr)
				if err != nil {
					return ruleTable{}
				}
				ri := ruleInfo{expr: e, forDur: time.Duration(rl.For), keepFire: time.Duration(rl.KeepFiringFor)}
				if rl.Alert != "" {
					t.alerts[rl.Alert] = append(t.alerts[rl.Alert], ri)
				} else {
					t.records[rl.Record] = append(t.records[rl.Record], ri)
				}
			}
		}
	}
	t.ok = true
	return t
}

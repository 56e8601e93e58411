package unittest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/promqlx"
	"github.com/gotk-rules/gotk-rules/series"
)

// Warning is something about a test file that does not change its verdict:
// a case where gotk-rules is stricter than promtool (which promtool only
// warns about, or accepts), or an assertion that holds whatever the rules
// say. With Options.Strict every warning fails its group.
type Warning struct {
	// Line is the line in the test file of the entry at fault.
	Line int `json:"line"`
	// Message words the problem; for promtool's own warnings, in its words.
	Message string `json:"message"`
	// Check names the check that found it (docs/warnings.md).
	Check string `json:"check"`
}

// The checks that give warnings; docs/warnings.md has an example of each.
const (
	// CheckRuleFilesUnmatched: a rule_files pattern matches no file.
	// promtool warns and goes on without it.
	CheckRuleFilesUnmatched = "rule-files-unmatched"
	// CheckEvalAfterInput: an assertion expecting nothing at a time when
	// every input series it could read has ended, beyond the lookback.
	CheckEvalAfterInput = "eval-after-input"
	// CheckForNeverElapses: an alert's for is longer than the last time
	// it is asserted at, so it cannot fire in the test.
	CheckForNeverElapses = "for-never-elapses"
	// CheckAlertReadsNoInput: exp_alerts: [] for an alert whose expression
	// reads no series of the input.
	CheckAlertReadsNoInput = "alert-reads-no-input"
	// CheckUnknownAlert: exp_alerts: [] for an alertname no rule has.
	CheckUnknownAlert = "unknown-alert"
	// CheckExprReadsNoInput: a promql_expr_test expecting no sample from
	// an expression that reads no series of the input.
	CheckExprReadsNoInput = "expr-reads-no-input"
	// CheckEvalTimeOffGrid: an eval_time between two evaluations.
	CheckEvalTimeOffGrid = "eval-time-off-grid"
	// CheckDuplicateInputSeries: two input_series with the same labels;
	// the later replaces the earlier.
	CheckDuplicateInputSeries = "duplicate-input-series"
)

// String words a warning as the text report prints it, after file.
func (w Warning) String(file string) string {
	return fmt.Sprintf("%s:%d: %s [%s]", file, w.Line, w.Message, w.Check)
}

// never is a time no assertion reaches (with room to add durations).
const never = time.Duration(math.MaxInt64 / 4)

// maxRecordingDepth bounds how deep recording rules reading recording rules
// are followed; deeper is taken as unknown (no warning).
const maxRecordingDepth = 8

// inputInfo is what the checks know of one input series without expanding it.
type inputInfo struct {
	lset labels.Labels
	// end is the time of its last value (omitted ones and stale markers
	// included) from the group's start: after it, the test says nothing of
	// the series.
	end time.Duration
	// entry is the input_series index.
	entry int
	// deliberate: the values end with a stale marker or an omitted value,
	// so the series' end is written on purpose, and assertions after it
	// check what the rules do without it.
	deliberate bool
}

// groupChecker finds the warnings of one test group.
type groupChecker struct {
	lf       *loadedFile
	idx      int
	tg       TestGroup
	eval     time.Duration
	lookback time.Duration
	inputs   []inputInfo
	byName   map[string][]int
	// alerts and records are the loaded rules by name, shared by every
	// group of the same rule files (ruleTable): read them, never change
	// them.
	alerts  map[string][]ruleInfo
	records map[string][]ruleInfo
	parser  parser.Parser
	// parse parses an expression as parser does; the tree is shared.
	parse func(string) (parser.Expr, error)
	out   []Warning
}

type ruleInfo struct {
	expr     parser.Expr
	forDur   time.Duration
	keepFire time.Duration
}

// runChecked runs test group idx into gr, then checks it (checkGroup).
// With overlap, when cores would idle, the checks, which read only the file
// and the rules, run while the group does, unless its input is over a
// budget (the group then fails before reading it, and so must they).
func (r *Runner) runChecked(ctx context.Context, lf *loadedFile, idx int, gr *GroupResult, overlap bool) {
	limits := InputLimits{MaxSeries: r.opts.MaxSeries, MaxSamples: r.opts.MaxSamples}
	if !overlap || CheckInputLimits(lf.tf.Tests[idx].InputSeries, limits) != nil {
		r.runGroup(ctx, lf, idx, gr)
		r.checkGroup(lf, idx, gr, nil)
		return
	}
	var warnings []Warning
	done := make(chan struct{})
	go func() {
		defer close(done)
		// A panic (a rule file's parse, say) is the group's to report,
		// which meets it too: here it only leaves the warnings out.
		defer func() { _ = recover() }()
		warnings = r.groupWarnings(lf, idx)
	}()
	r.runGroup(ctx, lf, idx, gr)
	<-done
	r.checkGroup(lf, idx, gr, &warnings)
}

// checkGroup adds the warnings of test group idx to gr (those given, when
// made already), and with Options.Strict fails the group on them and on
// its file's.
func (r *Runner) checkGroup(lf *loadedFile, idx int, gr *GroupResult, made *[]Warning) {
	if !gr.BadInput {
		if made != nil {
			gr.Warnings = *made
		} else {
			gr.Warnings = r.groupWarnings(lf, idx)
		}
	}
	if !r.opts.Strict {
		return
	}
	for _, w := range slices.Concat(lf.warnings, gr.Warnings) {
		gr.Passed = false
		gr.Errors = append(gr.Errors, "warning (--strict): "+w.String(lf.path))
	}
}

// groupWarnings runs every check on test group idx of lf. Rules are read
// from the loader's cache: the group has loaded them.
func (r *Runner) groupWarnings(lf *loadedFile, idx int) []Warning {
	tg := lf.tf.Tests[idx]
	if tg.Interval == 0 {
		tg.Interval = lf.tf.EvaluationInterval
	}
	c := &groupChecker{
		lf: lf, idx: idx, tg: tg,
		eval:     time.Duration(lf.tf.EvaluationInterval),
		lookback: r.opts.Engine.Options().LookbackDelta,
		byName:   map[string][]int{},
		parser:   r.opts.Engine.Parser(),
		parse:    r.instant.Parse,
	}
	if c.eval <= 0 || tg.Interval <= 0 {
		return nil
	}
	rt := r.ruleTable(lf.ruleFiles)
	if !rt.ok {
		return nil // the group reports it
	}
	c.alerts, c.records = rt.alerts, rt.records
	c.readInputs()
	c.checkAlerts()
	c.checkExprs()
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].Line < c.out[j].Line })
	return c.out
}

func (c *groupChecker) line(p ...any) int {
	line, _ := c.lf.pos.At(append([]any{"tests", c.idx}, p...)...)
	return line
}

func (c *groupChecker) warn(line int, check, format string, args ...any) {
	c.out = append(c.out, Warning{Line: line, Check: check, Message: fmt.Sprintf(format, args...)})
}

// readInputs reads the input series' labels and where their values end,
// counting the values without expanding them, and warns about series
// defined twice. Entries are split into lines as ReadInputSeries does.
func (c *groupChecker) readInputs() {
	first := map[uint64]int{}
lines:
	for i, is := range c.tg.InputSeries {
		var descs []inputDesc
		if strings.Contains(is.Series, "\n") || strings.Contains(is.Values, "\n") {
			// Rare: parsed whole, values expanded.
			for _, l := range strings.Split(is.Series+" "+is.Values, "\n") {
				l = strings.TrimSpace(l)
				if l == "" || strings.HasPrefix(l, "#") {
					c.addInputs(i, descs, first)
					break lines
				}
				lset, vals, err := series.ParseDesc(l)
				if err != nil {
					return
				}
				descs = append(descs, inputDesc{lset: lset, values: uint64(len(vals)), last: lastField(l)})
			}
		} else {
			// The fields are not joined (a fleet's values are long): the
			// line they make starts where the first non-blank one does.
			t := strings.TrimLeftFunc(is.Series, unicode.IsSpace)
			if t == "" {
				t = strings.TrimLeftFunc(is.Values, unicode.IsSpace)
			}
			if t == "" || t[0] == '#' {
				break
			}
			inMetric := valuesInMetric(is.Series)
			metric := strings.TrimSuffix(strings.TrimSpace(is.Series), strings.TrimSpace(inMetric))
			lset, err := c.parser.ParseMetric(strings.TrimSpace(metric))
			if err != nil {
				return // the group reports it
			}
			values := is.Values
			if inMetric != "" {
				values = inMetric + " " + is.Values
			}
			descs = append(descs, inputDesc{lset: lset, values: series.Count(values), last: lastField(values)})
		}
		c.addInputs(i, descs, first)
	}
}

// inputDesc is one input series as written: its labels, how many values
// (omitted ones included) and its last value as written.
type inputDesc struct {
	lset   labels.Labels
	values uint64
	last   string
}

// lastField is the last of strings.Fields(s), or "", without splitting
// all of s (a day of values is thousands of fields).
func lastField(s string) string {
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	i := strings.LastIndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return s[i+size:]
}

// addInputs records the series of entry i.
func (c *groupChecker) addInputs(i int, descs []inputDesc, first map[uint64]int) {
	for _, d := range descs {
		lset := d.lset
		end := time.Duration(0)
		if d.values > 0 {
			end = time.Duration(d.values-1) * time.Duration(c.tg.Interval)
		}
		deliberate := strings.HasPrefix(d.last, "stale") || strings.HasPrefix(d.last, "_")
		h := lset.Hash()
		if j, ok := first[h]; ok {
			earlier := c.inputs[j]
			c.warn(c.line("input_series", i), CheckDuplicateInputSeries,
				"input series %s is defined again (first at line %d): the later definition replaces the earlier, as in promtool",
				seriesString(lset), c.line("input_series", earlier.entry))
			c.inputs[j] = inputInfo{lset: lset, end: end, entry: i, deliberate: deliberate}
			continue
		}
		first[h] = len(c.inputs)
		c.byName[lset.Get(labels.MetricName)] = append(c.byName[lset.Get(labels.MetricName)], len(c.inputs))
		c.inputs = append(c.inputs, inputInfo{lset: lset, end: end, entry: i, deliberate: deliberate})
	}
}

// reads is what an expression can read of the input.
type reads struct {
	// unknown: it reads something the checks cannot bound (alerts'
	// series, @, negative offsets, a recording loop) or returns series
	// without reading any (absent(), vector(1)).
	unknown bool
	// matched: some input series matches one of its selectors.
	matched bool
	// named: some input series has the metric name of one of its
	// selectors (matches its matchers on the name).
	named bool
	// until: after it, every input series it reads has ended, beyond the
	// lookback and ranges (when matched).
	until time.Duration
	// dead are the selectors that match no input series.
	dead []string
	// rules: it reads a rule's output (for eval-time-off-grid).
	rules bool
}

func (r *reads) merge(o reads) {
	r.unknown = r.unknown || o.unknown
	r.rules = r.rules || o.rules
	r.named = r.named || o.named
	if o.matched {
		if !r.matched || o.until > r.until {
			r.until = o.until
		}
		r.matched = true
	}
	r.dead = append(r.dead, o.dead...)
}

// reads finds what e can read, its selectors looking back window more.
func (c *groupChecker) reads(e parser.Expr, window time.Duration, depth int) reads {
	var out reads
	if depth > maxRecordingDepth || yieldsWithoutData(e) {
		out.unknown = true
		return out
	}
	for _, s := range promqlx.Selectors(e) {
		w, ok := c.window(s)
		if !ok {
			out.unknown = true
			continue
		}
		w += window
		name := promqlx.MetricName(s.VectorSelector)
		if name == "ALERTS" || name == "ALERTS_FOR_STATE" {
			out.unknown, out.rules = true, true
			continue
		}
		var sr reads
		if recs, ok := c.records[name]; ok {
			// The rules' outputs, and input series of the same name.
			sr.rules = true
			for _, rec := range recs {
				sr.merge(c.reads(rec.expr, w, depth+1))
			}
		}
		if name == "" {
			// A selector without a name may select rules' outputs.
			for rec := range c.records {
				if matchesName(s.VectorSelector, rec) {
					out.unknown, out.rules = true, true
				}
			}
			if len(c.alerts) > 0 && (matchesName(s.VectorSelector, "ALERTS") || matchesName(s.VectorSelector, "ALERTS_FOR_STATE")) {
				out.unknown, out.rules = true, true
			}
		}
		c.eachInput(s.VectorSelector, name, func(in inputInfo) {
			until := in.end + w
			if in.deliberate {
				until = never
			}
			if !sr.matched || until > sr.until {
				sr.until = until
			}
			sr.matched = true
		})
		if !sr.named {
			// Input series its other matchers refuse are read in the
			// sense that matters: a test with them checks the matchers.
			sr.named = sr.matched || c.anyNamed(s.VectorSelector)
		}
		if _, recorded := c.records[name]; !sr.named && !recorded {
			sr.dead = []string{s.VectorSelector.String()}
		}
		out.merge(sr)
	}
	return out
}

// anyNamed reports whether an input series matches the selector's
// matchers on the metric name; for a selector without any, its matchers.
func (c *groupChecker) anyNamed(vs *parser.VectorSelector) bool {
	var byName []*labels.Matcher
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName {
			byName = append(byName, m)
		}
	}
	if len(byName) == 0 {
		return false // eachInput has tried them all
	}
	for _, in := range c.inputs {
		ok := true
		for _, m := range byName {
			ok = ok && m.Matches(in.lset.Get(labels.MetricName))
		}
		if ok {
			return true
		}
	}
	return false
}

// eachInput calls f with every input series the selector matches.
func (c *groupChecker) eachInput(vs *parser.VectorSelector, name string, f func(inputInfo)) {
	match := func(in inputInfo) bool {
		for _, m := range vs.LabelMatchers {
			if !m.Matches(in.lset.Get(m.Name)) {
				return false
			}
		}
		return true
	}
	if name != "" {
		for _, i := range c.byName[name] {
			if match(c.inputs[i]) {
				f(c.inputs[i])
			}
		}
		return
	}
	for _, in := range c.inputs {
		if match(in) {
			f(in)
		}
	}
}

func matchesName(vs *parser.VectorSelector, name string) bool {
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && !m.Matches(name) {
			return false
		}
	}
	return true
}

// window is how far back from the query time a selector reads: the
// lookback, its range, its offset and those of the subqueries around it.
// ok is false for what cannot be bounded that way (@, negative offsets).
func (c *groupChecker) window(s promqlx.Selector) (time.Duration, bool) {
	vs := s.VectorSelector
	if vs.Timestamp != nil || vs.StartOrEnd != 0 || vs.OriginalOffset < 0 {
		return 0, false
	}
	w := c.lookback + vs.OriginalOffset
	for _, p := range s.Path {
		switch n := p.(type) {
		case *parser.MatrixSelector:
			w += n.Range
		case *parser.SubqueryExpr:
			if n.Timestamp != nil || n.StartOrEnd != 0 || n.OriginalOffset < 0 {
				return 0, false
			}
			w += n.Range + n.OriginalOffset
		}
	}
	return w, true
}

// yieldsWithoutData reports whether e can return a series when every
// selector in it returns none: absent(), vector(1), a scalar, `or` with one.
func yieldsWithoutData(e parser.Expr) bool {
	switch n := e.(type) {
	case nil:
		return false
	case *parser.VectorSelector, *parser.MatrixSelector:
		return false
	case *parser.NumberLiteral, *parser.StringLiteral:
		return true
	case *parser.ParenExpr:
		return yieldsWithoutData(n.Expr)
	case *parser.StepInvariantExpr:
		return yieldsWithoutData(n.Expr)
	case *parser.UnaryExpr:
		return yieldsWithoutData(n.Expr)
	case *parser.SubqueryExpr:
		return yieldsWithoutData(n.Expr)
	case *parser.AggregateExpr:
		return yieldsWithoutData(n.Expr)
	case *parser.Call:
		if strings.HasPrefix(n.Func.Name, "absent") || n.Func.ReturnType == parser.ValueTypeScalar {
			return true
		}
		vectorArgs := false
		for _, a := range n.Args {
			if t := a.Type(); t == parser.ValueTypeVector || t == parser.ValueTypeMatrix {
				vectorArgs = true
				if yieldsWithoutData(a) {
					return true
				}
			}
		}
		return !vectorArgs // vector(1), time() and the like
	case *parser.BinaryExpr:
		lt, rt := n.LHS.Type(), n.RHS.Type()
		switch {
		case lt == parser.ValueTypeScalar && rt == parser.ValueTypeScalar:
			return true
		case lt == parser.ValueTypeScalar:
			return yieldsWithoutData(n.RHS)
		case rt == parser.ValueTypeScalar:
			return yieldsWithoutData(n.LHS)
		case n.Op == parser.LOR:
			return yieldsWithoutData(n.LHS) || yieldsWithoutData(n.RHS)
		case n.Op == parser.LUNLESS:
			return yieldsWithoutData(n.LHS)
		case n.VectorMatching != nil && (n.VectorMatching.FillValues.LHS != nil || n.VectorMatching.FillValues.RHS != nil):
			return yieldsWithoutData(n.LHS) || yieldsWithoutData(n.RHS)
		}
		return yieldsWithoutData(n.LHS) && yieldsWithoutData(n.RHS)
	}
	return true // anything unknown: assume it can
}

// onGrid returns the evaluation an eval_time is checked at, and whether it
// is on the evaluation grid.
func (c *groupChecker) onGrid(t model.Duration) (time.Duration, bool) {
	d := time.Duration(t)
	return d - d%c.eval, d%c.eval == 0
}

func (c *groupChecker) checkAlerts() {
	// The latest assertion of each alert, for for-never-elapses.
	last := map[string]int{}
	for i, a := range c.tg.AlertRuleTests {
		line := c.line("alert_rule_test", i)
		at, ok := c.onGrid(a.EvalTime)
		if !ok {
			c.warn(c.line("alert_rule_test", i, "eval_time"), CheckEvalTimeOffGrid,
				"alert %s: eval_time %s is not a multiple of evaluation_interval %s: alerts are checked as evaluated at %s",
				a.Alertname, a.EvalTime, model.Duration(c.eval), model.Duration(at))
		}
		if j, ok := last[a.Alertname]; !ok || a.EvalTime >= c.tg.AlertRuleTests[j].EvalTime {
			last[a.Alertname] = i
		}
		rules, known := c.alerts[a.Alertname]
		if len(a.ExpAlerts) > 0 {
			continue
		}
		if !known {
			c.warn(line, CheckUnknownAlert, "alert %s at %s: no rule of the rule files has this name, so no alert can fire and exp_alerts: [] holds whatever the rules say", a.Alertname, a.EvalTime)
			continue
		}
		var rd reads
		var keep time.Duration
		for _, ru := range rules {
			rd.merge(c.reads(ru.expr, 0, 0))
			keep = max(keep, ru.keepFire)
		}
		switch {
		case rd.unknown:
		case !rd.named:
			c.warn(line, CheckAlertReadsNoInput, "alert %s at %s expects no alert, but its expression reads no input series (the input has no series of %s): the assertion holds whatever the rule says",
				a.Alertname, a.EvalTime, deadWords(rd.dead))
		case rd.matched && at >= rd.until+keep:
			c.warn(line, CheckEvalAfterInput, "alert %s at %s expects no alert, but every input series its expression reads has ended: it reads nothing from %s on (the lookback and ranges past the last values%s), so the assertion holds whatever the rule says",
				a.Alertname, a.EvalTime, model.Duration(rd.until+keep), keepWords(keep))
		}
	}
	for name, i := range last {
		rules, ok := c.alerts[name]
		if !ok {
			continue
		}
		minFor := rules[0].forDur
		for _, ru := range rules[1:] {
			minFor = min(minFor, ru.forDur)
		}
		a := c.tg.AlertRuleTests[i]
		if at, _ := c.onGrid(a.EvalTime); minFor > 0 && at < minFor {
			c.warn(c.line("alert_rule_test", i), CheckForNeverElapses,
				"alert %s has for: %s, but its last assertion is at %s: it cannot fire within the test (assert at %s or later)",
				name, model.Duration(minFor), a.EvalTime, model.Duration(minFor))
		}
	}
}

func (c *groupChecker) checkExprs() {
	for i, tc := range c.tg.PromqlExprTests {
		e, err := c.parse(tc.Expr)
		if err != nil {
			continue // the group reports it
		}
		rd := c.reads(e, 0, 0)
		line := c.line("promql_expr_test", i)
		if _, ok := c.onGrid(tc.EvalTime); !ok && rd.rules {
			c.warn(c.line("promql_expr_test", i, "eval_time"), CheckEvalTimeOffGrid,
				"expr %q: eval_time %s is not a multiple of evaluation_interval %s: the rules' outputs it reads are those of the evaluation before",
				tc.Expr, tc.EvalTime, model.Duration(c.eval))
		}
		if len(tc.ExpSamples) > 0 || rd.unknown {
			continue
		}
		switch {
		case !rd.named:
			c.warn(line, CheckExprReadsNoInput, "expr %q at %s expects no sample, but reads no input series (the input has no series of %s): the assertion holds whatever the rules say",
				tc.Expr, tc.EvalTime, deadWords(rd.dead))
		case rd.matched && time.Duration(tc.EvalTime) >= rd.until:
			c.warn(line, CheckEvalAfterInput, "expr %q at %s expects no sample, but every input series it reads has ended: it reads nothing from %s on (the lookback and ranges past the last values), so the assertion holds whatever the rules say",
				tc.Expr, tc.EvalTime, model.Duration(rd.until))
		}
	}
}

func keepWords(keep time.Duration) string {
	if keep == 0 {
		return ""
	}
	return ", and keep_firing_for " + model.Duration(keep).String()
}

// deadWords lists selectors that match no input series, each once.
func deadWords(dead []string) string {
	slices.Sort(dead)
	return strings.Join(slices.Compact(dead), " or ")
}

// seriesString writes labels as PromQL does a series: name{labels}.
func seriesString(lset labels.Labels) string {
	name := lset.Get(labels.MetricName)
	rest := lset.DropMetricName()
	if name == "" || !model.IsValidLegacyMetricName(name) {
		return lset.String()
	}
	if rest.IsEmpty() {
		return name
	}
	return name + rest.String()
}

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/verify"
)

// VerifyRequest asks for a verification of the rules editor's content.
type VerifyRequest struct {
	Rules string `json:"rules"`
	// Runs per era and scrape setup (default: the server's VerifyRuns).
	Runs int   `json:"runs"`
	Seed int64 `json:"seed"`
	// Eras and Scrapes narrow the verification (default: all).
	Eras    []scenario.Era    `json:"eras,omitempty"`
	Scrapes []scenario.Scrape `json:"scrapes,omitempty"`
}

// VerifyResponse holds one result per alert, era and scrape setup.
type VerifyResponse struct {
	OK        bool             `json:"ok"`
	Runs      int              `json:"runs"`
	Seed      int64            `json:"seed"`
	Results   []*verify.Result `json:"results"`
	Problems  []Problem        `json:"problems"`
	ElapsedMS int64            `json:"elapsed_ms"`
}

// Verify replays random Flux lives through the rules for every era and
// scrape setup (as `gotk-rules verify`), with fewer lives and a time limit.
// At most one verification runs at a time; others wait their turn, until
// their deadline. Verify stops within one rule query when ctx ends.
func (s *Server) Verify(ctx context.Context, req VerifyRequest) *VerifyResponse {
	start := time.Now()
	lim := s.limits
	runs := req.Runs
	if runs <= 0 {
		runs = lim.VerifyRuns
	}
	runs = min(runs, 5*lim.VerifyRuns)
	seed := req.Seed
	if seed == 0 {
		seed = 1
	}
	res := &VerifyResponse{Runs: runs, Seed: seed, Results: []*verify.Result{}, Problems: []Problem{}}
	// Every answer says how long it took, a wait for the slot included.
	defer func() { res.ElapsedMS = time.Since(start).Milliseconds() }()
	for _, e := range req.Eras {
		if !slices.Contains(scenario.Eras, e) {
			res.Problems = append(res.Problems, Problem{Severity: "error", Message: fmt.Sprintf("unknown era %q", e)})
		}
	}
	for _, sc := range req.Scrapes {
		if !slices.Contains(scenario.Scrapes, sc) {
			res.Problems = append(res.Problems, Problem{Severity: "error", Message: fmt.Sprintf("unknown scrape setup %q", sc)})
		}
	}
	if len(res.Problems) > 0 {
		return res
	}
	eng := s.engine()
	loader := rulefile.NewLoader(eng.Parser(), false)
	loader.Preload(RulesFile, []byte(req.Rules))
	rf, err := loader.LoadFile(RulesFile)
	if err != nil {
		res.Problems = ruleProblems(err)
		return res
	}
	alerting := false
	for _, g := range rf.Groups {
		for _, r := range g.RuleGroup.Rules {
			alerting = alerting || r.Alert != ""
		}
	}
	if !alerting {
		res.OK = true
		res.Problems = append(res.Problems, Problem{Editor: EditorRules, Line: 1, Column: 1, Severity: "info", Message: "no alerting rule to verify"})
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, lim.VerifyTimeout)
	defer cancel()
	// One verification at a time: the next waits for the slot, which a
	// verification frees as soon as it ends, or is cancelled. A free slot
	// is taken even when ctx has ended: the verification then stops at
	// once and says which limit ended it (a select would pick at random,
	// and blame a verification that is not running).
	select {
	case s.verifying <- struct{}{}:
	default:
		select {
		case s.verifying <- struct{}{}:
		case <-ctx.Done():
			res.Problems = append(res.Problems, Problem{Severity: "error", Message: "another verification is still running; try again"})
			return res
		}
	}
	results, err := s.runVerify(ctx, verify.Options{
		Engine: eng, RuleFiles: []string{RulesFile}, Loader: loader,
		Runs: runs, Seed: seed, Eras: req.Eras, Scrapes: req.Scrapes,
		MaxEvals: lim.MaxVerifyEvals,
	})
	switch {
	case ctx.Err() != nil:
		msg := "verify was cancelled"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			msg = fmt.Sprintf("verify took longer than the sandbox's limit of %s (gotk-rules serve --verify-timeout, or fewer --verify-runs)", lim.VerifyTimeout)
		}
		res.Problems = append(res.Problems, Problem{Severity: "error", Message: msg})
	case errors.As(err, new(*budget.ExceededError)):
		res.Problems = append(res.Problems, Problem{Severity: "error", Message: budget.Explain(err, limitHint)})
	case err != nil:
		res.Problems = append(res.Problems, evalProblems(err, rf)...)
	default:
		res.OK = true
		res.Results = results
	}
	return res
}

// runVerify runs verify.Run holding the verification slot, which it frees
// when verify returns, panicking or not.
func (s *Server) runVerify(ctx context.Context, opts verify.Options) (res []*verify.Result, err error) {
	defer func() { <-s.verifying }()
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("verify failed (please report it): %v", p)
		}
	}()
	return verify.Run(ctx, opts)
}

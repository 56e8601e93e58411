package rulefile

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFoldDecoder(t *testing.T) {
	rule := Error{File: "r.yml", Line: 5, Column: 3, Msg: "group name must not be empty"}
	a := Error{File: "r.yml", Line: 1, Column: 1, Msg: "yaml: field a not found in type rulefmt.RuleGroups"}
	b := Error{File: "r.yml", Line: 8, Column: 1, Msg: "yaml: cannot unmarshal !!seq into rulefmt.RuleGroupNode"}
	// Each decoding's problems fold into the first; the others stay.
	got := foldDecoder([]Error{rule, a, a, b}, false)
	want := a
	want.Msg += " (and 1 more error)"
	require.Equal(t, []Error{rule, want}, got)
	// One decoder problem, or none, is left as it is.
	require.Equal(t, []Error{a, rule}, foldDecoder([]Error{a, rule}, false))
	require.Empty(t, foldDecoder(nil, false))
	// A linter keeps each distinct problem, without repeats.
	require.Equal(t, []Error{rule, a, b}, foldDecoder([]Error{rule, a, a, b}, true))
}

func TestFromMessageColumns(t *testing.T) {
	src := []byte("groups:\n- name: g\n  owner: x\n")
	got := fromMessage("r.yml", src, "yaml: unmarshal errors:\n  line 3: field owner not found in type rulefmt.RuleGroup")
	require.Equal(t, []Error{{File: "r.yml", Line: 3, Column: 3, Msg: "yaml: field owner not found in type rulefmt.RuleGroup"}}, got)
}

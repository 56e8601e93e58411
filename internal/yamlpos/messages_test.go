package yamlpos

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMessages(t *testing.T) {
	f := func(msg string, want ...Message) {
		t.Helper()
		require.Equal(t, want, Messages(msg), msg)
	}
	f("yaml: line 3: mapping values are not allowed in this context",
		Message{Line: 3, Msg: "mapping values are not allowed in this context"})
	f("yaml: line 3:7: did not find expected key",
		Message{Line: 3, Column: 7, Msg: "did not find expected key"})
	f("line 12, column 4: unknown field",
		Message{Line: 12, Column: 4, Msg: "unknown field"})
	f("yaml: unmarshal errors:\n  line 2: field foo not found in type T\n  line 9: cannot unmarshal !!str `x` into int\n",
		Message{Line: 2, Msg: "field foo not found in type T"},
		Message{Line: 9, Msg: "cannot unmarshal !!str `x` into int"})
	f("yaml: control characters are not allowed", Message{Msg: "yaml: control characters are not allowed"})
	f("  3:5: group name must not be empty ", Message{Msg: "3:5: group name must not be empty"})
	f("online 3: not a position", Message{Msg: "online 3: not a position"})
}

func TestMessageIn(t *testing.T) {
	require.Equal(t, "a.yml:3:7: bad", Message{Line: 3, Column: 7, Msg: "bad"}.In("a.yml"))
	require.Equal(t, "a.yml:3: bad", Message{Line: 3, Msg: "bad"}.In("a.yml"))
	require.Equal(t, "a.yml: bad", Message{Msg: "bad"}.In("a.yml"))
}

func TestPlace(t *testing.T) {
	src := []byte("a: 1\n  bogus: 2\n- {x: 1, \"other\": 3}\n\t\n")
	f := func(in []Message, want ...Message) {
		t.Helper()
		require.Equal(t, want, Place(src, in))
	}
	// Unknown fields are placed at their key, plain or quoted, in block or flow style.
	f([]Message{{Line: 2, Msg: "field bogus not found in type T"}}, Message{Line: 2, Column: 3, Msg: "field bogus not found in type T"})
	f([]Message{{Line: 3, Msg: "field other not found in type T"}}, Message{Line: 3, Column: 10, Msg: "field other not found in type T"})
	// A key not found on its line, and other problems, are at the line's first non-blank character.
	f([]Message{{Line: 2, Msg: "field zzz not found in type T"}}, Message{Line: 2, Column: 3, Msg: "field zzz not found in type T"})
	f([]Message{{Line: 3, Msg: "did not find expected key"}}, Message{Line: 3, Column: 1, Msg: "did not find expected key"})
	f([]Message{{Line: 4, Msg: "found a tab"}}, Message{Line: 4, Column: 1, Msg: "found a tab"})
	f([]Message{{Line: 99, Msg: "past the end"}}, Message{Line: 99, Column: 1, Msg: "past the end"})
	// A column given is kept; a problem without a line is at the start.
	f([]Message{{Line: 2, Column: 7, Msg: "x"}}, Message{Line: 2, Column: 7, Msg: "x"})
	f([]Message{{Msg: "exceeded max depth"}}, Message{Line: 1, Column: 1, Msg: "exceeded max depth"})
	require.Empty(t, Place([]byte("\n"), nil), "nothing in, nothing out")
	require.Equal(t, []Message{{Line: 1, Column: 3, Msg: "x"}}, Place([]byte("  y"), []Message{{Msg: "x"}}))
	require.Equal(t, []Message{{Line: 1, Column: 1, Msg: "x"}}, Place(nil, []Message{{Msg: "x"}}))
}

func TestFold(t *testing.T) {
	require.Empty(t, Fold(nil))
	one := Message{Line: 1, Column: 2, Msg: "a"}
	require.Equal(t, []Message{one}, Fold([]Message{one, one, one}))
	require.Equal(t, []Message{{Line: 1, Column: 2, Msg: "a (and 1 more error)"}}, Fold([]Message{one, {Line: 2, Column: 2, Msg: "a"}, one}))
	require.Equal(t, []Message{{Line: 1, Column: 2, Msg: "a (and 2 more errors)"}},
		Fold([]Message{one, {Line: 1, Column: 2, Msg: "b"}, {Msg: "c"}}))
}
